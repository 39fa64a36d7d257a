"""A whole leads file as contacts and rejects, chunk by chunk, with its phones normalized
ahead of the chunk being split.

Normalizing (in the process pool: most of an import's CPU) runs on a thread ``_AHEAD``
chunks ahead of the chunk handed out, so that it overlaps reading, splitting and whatever
the caller does with a chunk (inserting it) instead of taking turns with them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import pandas as pd

from dialer.leads.chunks import Chunk, iter_chunks
from dialer.leads.contacts import (
    Normalized,
    PhoneCells,
    RowCheck,
    normalize_new,
    phone_cells,
    split_chunk,
)
from dialer.leads.files import LeadsFile
from dialer.leads.headers import LeadColumns
from dialer.leads.seen import SeenNumbers


@dataclass(frozen=True)
class SplitChunk:
    """One chunk of the file: ``rows`` read, its new ``contacts``, its ``rejects`` and how
    many contacts each phone column ``supplied`` (as ``split_chunk`` returns them) and
    ``bytes_read`` of the file so far."""

    rows: int
    contacts: pd.DataFrame
    rejects: pd.DataFrame
    supplied: tuple[int, ...]
    bytes_read: int


# Chunks normalized ahead of the one being split: one in the pool, one queued behind it, so
# that the pool never waits for the reader.
_AHEAD = 2

_Pending = tuple[Chunk, PhoneCells, "Future[Normalized]"]


@contextmanager
def split_chunks(
    leads: LeadsFile,
    columns: LeadColumns,
    *,
    region: str,
    seen: SeenNumbers,
    suppressed: set[str],
    check: RowCheck | None,
    chunksize: int,
) -> Iterator[Iterator[SplitChunk]]:
    """The file's chunks split into contacts and rejects (see ``split_chunk``: ``seen``, the
    numbers already accepted and their rows, grows with each chunk's contacts).

    Leaving early cancels what is queued and waits for the batch in the pool.
    """
    source = iter_chunks(leads, chunksize=chunksize)
    pending: deque[_Pending] = deque()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="normalize") as normalizer:

        def read_ahead() -> None:
            while len(pending) < _AHEAD:
                chunk = next(source, None)
                if chunk is None:
                    return
                cells = phone_cells(chunk.frame, columns=columns, region=region)
                pending.append((chunk, cells, normalizer.submit(normalize_new, cells, seen=seen)))

        def chunks() -> Iterator[SplitChunk]:
            while pending:
                chunk, cells, future = pending.popleft()
                read_ahead()
                result = split_chunk(
                    chunk.frame,
                    columns=columns,
                    region=region,
                    seen=seen,
                    suppressed=suppressed,
                    check=check,
                    normalized=(cells, future.result()),
                )
                yield SplitChunk(
                    rows=len(chunk.frame),
                    contacts=result.contacts,
                    rejects=result.rejects,
                    supplied=result.supplied,
                    bytes_read=chunk.bytes_read,
                )

        try:
            read_ahead()
            yield chunks()
        finally:
            for _, _, future in pending:
                future.cancel()
