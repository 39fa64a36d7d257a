"""``dialer keygen``: print a new API key (for ``api_keys`` / ``DIALER_API_KEYS``)."""

from __future__ import annotations

import secrets

from dialer.cli.context import console


def keygen() -> None:
    """Print a new random API key (32 bytes from the secrets module, URL-safe)."""
    console.print(secrets.token_urlsafe(32), markup=False, soft_wrap=True)
