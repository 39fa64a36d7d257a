"""Running the embedded runner to completion in a test, with a bound on how long it may take."""

from __future__ import annotations

import threading

from dialer.polling import POLL_SECONDS
from dialer.runner import EmbeddedRunner
from dialer.service import CallService


def drain(
    service: CallService,
    *,
    threads: int = 4,
    timeout: float = 30,
    poll_seconds: float = POLL_SECONDS,
) -> None:
    """``dialer run --drain`` on ``service``, stopped (as by Ctrl-C) after ``timeout`` seconds."""
    runner = EmbeddedRunner(service, threads=threads, poll_seconds=poll_seconds)
    timer = threading.Timer(timeout, runner.stop)
    timer.start()
    try:
        runner.run(drain=True)
    finally:
        timer.cancel()
