"""What keeps parallel workers apart: each worker's Redis database, and the run lock that
lets a timing test run alone (tests/conftest.py, tests/alone.py)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.alone import RunLock
from tests.conftest import worker_redis_url


def test_each_worker_takes_the_database_below_the_previous_ones() -> None:
    base = "redis://127.0.0.1:6379/15"
    assert worker_redis_url(base, "gw0") == base
    assert worker_redis_url(base, "gw3") == "redis://127.0.0.1:6379/12"
    assert worker_redis_url("redis://:pw@host:6380/7?x=1", "gw1") == "redis://:pw@host:6380/6?x=1"


def test_too_many_workers_for_the_base_database_is_an_error_naming_the_variable() -> None:
    with pytest.raises(ValueError, match="DIALER_TEST_REDIS_URL"):
        worker_redis_url("redis://127.0.0.1:6379/2", "gw3")


class Entrant:
    """A thread with a run lock of its own (as each worker has), that takes it alone or
    shared, sets ``inside`` once in, and leaves when told."""

    def __init__(
        self, directory: Path, *, alone: bool, then_alone: bool = False, alone_tests: int = 0
    ) -> None:
        self.lock = RunLock(directory, alone_tests=alone_tests)
        self.inside, self._leave = threading.Event(), threading.Event()
        self.inside_again, self._leave_again = threading.Event(), threading.Event()
        self._thread = threading.Thread(target=self._run, args=(alone, then_alone), daemon=True)
        self._thread.start()

    def _run(self, alone: bool, then_alone: bool) -> None:
        with self.lock.alone(keep=then_alone) if alone else self.lock.shared():
            self.inside.set()
            self._leave.wait(10)
        if then_alone:  # a second test, alone, as the worker's next
            with self.lock.alone():
                self.inside_again.set()
                self._leave_again.wait(10)

    def leave(self) -> None:
        self._leave.set()
        self._leave_again.set()
        self._thread.join(10)
        self.lock.close()

    def leave_first(self) -> None:
        self._leave.set()


def test_an_alone_test_waits_for_the_others_and_they_wait_for_it(tmp_path: Path) -> None:
    ordinary = Entrant(tmp_path, alone=False)
    assert ordinary.inside.wait(10)
    beside = Entrant(tmp_path, alone=False)
    assert beside.inside.wait(10)  # ordinary tests run side by side
    beside.leave()

    alone = Entrant(tmp_path, alone=True)
    assert not alone.inside.wait(0.3)  # a test is still in flight
    ordinary.leave()
    assert alone.inside.wait(10)
    later = Entrant(tmp_path, alone=False)
    assert not later.inside.wait(0.3)  # nothing starts beside it
    alone.leave()
    assert later.inside.wait(10)
    later.leave()


def test_alone_tests_one_after_another_keep_the_others_out_between_them(tmp_path: Path) -> None:
    first = Entrant(tmp_path, alone=True, then_alone=True)
    assert first.inside.wait(10)
    waiting = Entrant(tmp_path, alone=False)
    assert not waiting.inside.wait(0.3)
    first.leave_first()
    assert first.inside_again.wait(10)
    assert not waiting.inside.is_set()  # it did not slip in between the two
    first.leave()
    assert waiting.inside.wait(10)
    waiting.leave()


def test_a_workers_first_ordinary_test_waits_for_the_runs_alone_tests(tmp_path: Path) -> None:
    ordinary = Entrant(tmp_path, alone=False, alone_tests=2)
    assert not ordinary.inside.wait(0.3)  # nothing in flight, but the alone tests come first
    alone = Entrant(tmp_path, alone=True, then_alone=True, alone_tests=2)
    assert alone.inside.wait(10)
    alone.leave_first()
    assert alone.inside_again.wait(10)
    assert not ordinary.inside.is_set()
    alone.leave()
    assert ordinary.inside.wait(10)
    ordinary.leave()
