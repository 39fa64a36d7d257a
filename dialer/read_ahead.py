"""Read the next item of a slow generator in a thread while the caller works on the last."""

from __future__ import annotations

from collections.abc import Generator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


def read_ahead(
    items: Generator[T, None, None], *, name: str = "read-ahead"
) -> Generator[T, None, None]:
    """``items`` (never None) in order, each next one asked for in a thread of its own while
    the caller handles the one before: a batch read from a database comes while the last is
    written.

    Only that thread ever runs ``items``, its close included, so a generator holding a
    connection never has it used by two threads. Closing this iterator (early, or because
    the caller raised) does not wait for the item in flight: ``items`` is closed in the
    thread, after it, so a web server's event loop that drops an abandoned stream is not
    held up by a query. An exception ``items`` raises is raised to the caller.
    """
    reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
    try:
        coming = reader.submit(next, items, None)
        while (item := coming.result()) is not None:
            coming = reader.submit(next, items, None)
            yield item
    finally:
        reader.submit(items.close)
        reader.shutdown(wait=False)
