"""Read the next item of a slow generator in a thread while the caller works on the last."""

from __future__ import annotations

import logging
from collections.abc import Generator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import TypeVar, cast

log = logging.getLogger(__name__)

T = TypeVar("T")
_END = object()


def read_ahead(
    items: Generator[T, None, None], *, name: str = "read-ahead"
) -> Generator[T, None, None]:
    """``items`` in order, each next one asked for in a thread of its own while the caller
    handles the one before: a batch read from a database comes while the last is written.

    Only that thread runs ``items``, its close included, so a generator holding a connection
    never has it used by two threads. Closing this iterator (early, or because the caller
    raised) does not wait for the item in flight: ``items`` is closed in the thread, after
    it, so a web server's event loop that drops an abandoned stream is not held up by a
    query; an error of that close is logged, as nobody is left to raise it to. An exception
    ``items`` raises while reading is raised to the caller.
    """
    reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
    coming = None
    try:
        coming = reader.submit(next, items, _END)
        while (item := coming.result()) is not _END:
            coming = reader.submit(next, items, _END)
            yield cast(T, item)
    finally:
        try:
            reader.submit(items.close).add_done_callback(_log_failed_close)
        except RuntimeError:
            # The interpreter is exiting and takes no more work: close here, once the read
            # in flight (which the exit still lets finish) is over.
            if coming is not None:
                wait([coming])
            try:
                items.close()
            except Exception as failure:
                _log_close_failure(failure)
        finally:
            reader.shutdown(wait=False)


def _log_failed_close(closed: Future[None]) -> None:
    failure = closed.exception()
    if failure is not None:
        _log_close_failure(failure)


def _log_close_failure(failure: BaseException) -> None:
    first_line = next(iter(str(failure).splitlines()), "")
    log.warning("closing a read-ahead source failed: %s: %s", type(failure).__name__, first_line)
