"""``@pytest.mark.alone``: a test that measures time runs with no other test of the run beside it.

A few tests check timing that the machine's load can stretch: requests per second at the
sandbox, a burst arriving within a second. Beside other tests in parallel workers they
would fail for reasons that are not the dialer's. Every test holds a shared lock while it
runs (its setup, call and teardown); a test marked ``alone`` holds it exclusively, so it waits
for the tests in flight to end, and the other workers wait while it runs.

Two ``flock`` files, in a directory every worker of one run shares: ``room`` (shared by
ordinary tests, exclusive for an ``alone`` one) and ``turnstile``, which each test passes
through on its way in. A waiting ``alone`` test holds the turnstile, so new tests queue behind
it instead of keeping the room busy for ever (``flock`` itself does not favour writers).

A worker whose next test is ``alone`` too keeps the room between the two: otherwise every
other worker would slip one test in between, and the second ``alone`` test would wait for the
longest of them while the rest of the run stood idle. For the same reason, before its first
ordinary test a worker waits (at most :data:`FIRST_WAIT` seconds) until every ``alone`` test
of the run has ended, each adding a byte to the file ``alone-done``: they run first, and the
first one would otherwise wait for the longest of the tests the other workers began with.
"""

from __future__ import annotations

import contextlib
import fcntl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

FIRST_WAIT = 60.0
"""The longest a worker waits for the run's ``alone`` tests before its first ordinary test
(past it, the lock alone still keeps them apart)."""


class RunLock:
    """The run-wide lock of one worker process, over files in ``directory``; the run has
    ``alone_tests`` tests marked ``alone``."""

    def __init__(self, directory: Path, *, alone_tests: int = 0) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self._turnstile: IO[bytes] = (directory / "turnstile").open("ab")
        self._room: IO[bytes] = (directory / "room").open("ab")
        self._done = directory / "alone-done"
        self._alone_tests = alone_tests  # 0 once they are known to have ended
        self._alone = False  # this worker holds the turnstile and the room exclusively

    @contextlib.contextmanager
    def shared(self) -> Iterator[None]:
        """Run beside other ordinary tests; not beside an ``alone`` one."""
        self._leave_alone()
        self._wait_for_the_alone_tests()
        fcntl.flock(self._turnstile, fcntl.LOCK_EX)
        try:
            fcntl.flock(self._room, fcntl.LOCK_SH)
        finally:
            fcntl.flock(self._turnstile, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(self._room, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def alone(self, *, keep: bool = False) -> Iterator[None]:
        """Run with no other test of the run in flight; ``keep``: still none after it, until
        this worker's next :meth:`alone` ends without ``keep``, or its next :meth:`shared`."""
        if not self._alone:
            fcntl.flock(self._turnstile, fcntl.LOCK_EX)
            try:
                fcntl.flock(self._room, fcntl.LOCK_EX)
            except BaseException:
                fcntl.flock(self._turnstile, fcntl.LOCK_UN)
                raise
            self._alone = True
        try:
            yield
        finally:
            with self._done.open("ab") as done:
                done.write(b".")
            if not keep:
                self._leave_alone()

    def _wait_for_the_alone_tests(self) -> None:
        deadline = time.monotonic() + FIRST_WAIT
        while self._alone_tests and time.monotonic() < deadline:
            with contextlib.suppress(FileNotFoundError):
                if self._done.stat().st_size >= self._alone_tests:
                    break
            time.sleep(0.05)
        self._alone_tests = 0

    def _leave_alone(self) -> None:
        if self._alone:
            fcntl.flock(self._room, fcntl.LOCK_UN)
            fcntl.flock(self._turnstile, fcntl.LOCK_UN)
            self._alone = False

    def close(self) -> None:
        self._leave_alone()
        self._turnstile.close()
        self._room.close()
