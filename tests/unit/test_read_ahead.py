"""``dialer.read_ahead``: order, errors, and a close that neither waits nor shares the
generator between threads."""

from __future__ import annotations

import threading
import time
from collections.abc import Generator

import pytest

from dialer.read_ahead import read_ahead


def test_items_come_in_order_each_read_before_it_is_asked_for() -> None:
    asked: list[int] = []

    def items() -> Generator[int, None, None]:
        for item in range(5):
            asked.append(item)
            yield item

    seen = []
    for item in read_ahead(items()):
        seen.append(item)
        deadline = time.monotonic() + 5
        while asked[-1] < min(item + 1, 4) and time.monotonic() < deadline:
            time.sleep(0.001)
        assert asked[-1] == min(item + 1, 4)  # the next one is read while this one is held
    assert seen == [0, 1, 2, 3, 4]


def test_an_error_of_the_generator_reaches_the_caller_after_the_items_before_it() -> None:
    def items() -> Generator[int, None, None]:
        yield 1
        raise LookupError("gone")

    ahead = read_ahead(items())
    assert next(ahead) == 1
    with pytest.raises(LookupError, match="gone"):
        next(ahead)


def test_a_close_does_not_wait_and_the_generator_is_closed_in_the_reader_after_its_read() -> None:
    release = threading.Event()
    threads: set[str] = set()
    closed = threading.Event()

    def items() -> Generator[int, None, None]:
        try:
            threads.add(threading.current_thread().name)
            yield 1
            threads.add(threading.current_thread().name)
            release.wait(5)  # a slow read, in flight when the caller closes
            yield 2
        finally:
            threads.add(threading.current_thread().name)
            closed.set()

    ahead = read_ahead(items(), name="probe")
    assert next(ahead) == 1
    started = time.monotonic()
    ahead.close()
    assert time.monotonic() - started < 1
    assert not closed.is_set()
    release.set()
    assert closed.wait(5)
    assert len(threads) == 1 and threads.pop().startswith("probe")


def test_an_error_of_the_close_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    closed = threading.Event()

    def items() -> Generator[int, None, None]:
        try:
            yield 1
            yield 2
        finally:
            closed.set()
            raise OSError("rollback failed\nsecond line")

    ahead = read_ahead(items())
    with caplog.at_level("WARNING", logger="dialer.read_ahead"):
        assert next(ahead) == 1
        ahead.close()
        assert closed.wait(5)
        deadline = time.monotonic() + 5
        while not caplog.records and time.monotonic() < deadline:
            time.sleep(0.01)
    assert [r.getMessage() for r in caplog.records] == [
        "closing a read-ahead source failed: OSError: rollback failed"
    ]
