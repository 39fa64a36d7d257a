"""``python -m dialer`` is the ``dialer`` command."""

from dialer.cli.app import main

main()
