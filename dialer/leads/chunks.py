"""Streaming a leads file's rows as pandas frames of text, in memory that does not grow
with the file (``iter_chunks``), once ``dialer.leads.files.open_leads`` has said how to read it.

What a user can rely on:

- **Cells are text, exactly as written.** No NaN, no numbers: a missing cell is ``""``,
  ``0044...`` keeps its zeros, ``2125552674.0`` stays that text (``dialer.leads.phones``
  reads it).
- **row** is the record's position after the header, from 1. It counts records, not lines
  (a quoted cell may hold newlines), and it counts blank records too, so row N is the line
  Excel shows as N+1 in a file without multi-line cells.
- **Blank records** (every cell empty or whitespace, e.g. ``,,,`` at the end of an Excel
  export) are skipped: they are not leads. They keep their row number all the same.
- **Short and long records.** A record with fewer cells than the header gets ``""`` for the
  missing ones; a record with more keeps the first ones and drops the rest.

Errors the user can fix are ``CsvError`` with one line naming the file.
"""

from __future__ import annotations

import csv
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from dialer.errors import CsvError
from dialer.leads.files import BLOCK_SIZE, LeadsFile
from dialer.leads.headers import ROW_COLUMN

_BLOCK_KIB = BLOCK_SIZE >> 10


@dataclass(frozen=True)
class Chunk:
    """Consecutive rows of a leads file.

    ``frame`` has the int column ``row`` (see the module docstring) followed by every name in
    ``LeadsFile.columns``, each of text dtype with no missing values. Its index is 0..n-1.
    ``bytes_read`` is how much of the file has been read so far, for a progress bar: it never
    decreases, and it equals ``LeadsFile.size_bytes`` on the last chunk.
    """

    frame: pd.DataFrame
    bytes_read: int


def iter_chunks(leads: LeadsFile, *, chunksize: int = 100_000) -> Iterator[Chunk]:
    """The file's rows, ``chunksize`` at a time (the last chunk may be smaller).

    A file with no rows yields nothing. Memory is bounded by ``chunksize`` and pyarrow's
    block size, not by the file. Raises ``CsvError`` when the file turns out unreadable
    part-way, e.g. a quote that never closes in a file over ``BLOCK_SIZE``.
    """
    if chunksize < 1:
        raise ValueError(f"chunksize must be at least 1, got {chunksize}")
    buffered: list[pa.Table] = []
    count = 0
    try:
        source = pa.OSFile(str(leads.path))
    except OSError as exc:
        raise CsvError(f"cannot read {leads.path}: {exc}") from exc
    with source:
        for table in _numbered_tables(leads, source):
            buffered.append(table)
            count += table.num_rows
            # Strictly more than a chunk: the rows held back make sure the last chunk is
            # yielded after the reader is done, with bytes_read equal to the file size.
            while count > chunksize:
                whole = pa.concat_tables(buffered)
                yield _chunk(whole.slice(0, chunksize), min(source.tell(), leads.size_bytes))
                buffered = [whole.slice(chunksize)]
                count -= chunksize
    if count:
        yield _chunk(pa.concat_tables(buffered), leads.size_bytes)


def _chunk(table: pa.Table, bytes_read: int) -> Chunk:
    return Chunk(frame=table.to_pandas(), bytes_read=bytes_read)


def _numbered_tables(leads: LeadsFile, source: Any) -> Iterator[pa.Table]:
    """The data rows, in file order, as tables of ``row`` then the lead columns."""
    records = _RecordNumbers(leads)
    for batch in _read_batches(leads, source, records):
        yield records.number(batch)
    yield records.number(None)


def _read_batches(leads: LeadsFile, source: Any, records: _RecordNumbers) -> Iterator[Any]:
    """pyarrow's record batches of the file, its errors turned into ``CsvError``."""
    arrow_encoding = "utf8" if leads.encoding in ("utf-8", "utf-8-sig") else leads.encoding
    try:
        yield from pacsv.open_csv(
            source,
            read_options=pacsv.ReadOptions(
                # Record numbers of set-aside records are only known to a single-threaded
                # reader (pyarrow's streaming reader parses on one thread anyway).
                use_threads=False,
                block_size=BLOCK_SIZE,
                column_names=list(leads.columns),
                encoding=arrow_encoding,
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=leads.delimiter,
                newlines_in_values=True,
                # Blank lines stay records so that row numbers match the file's.
                ignore_empty_lines=False,
                invalid_row_handler=records.set_aside,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in leads.columns},
            ),
        )
    except (pa.ArrowException, ValueError, OSError) as exc:
        raise CsvError(_read_error(leads, records.next_record, exc)) from exc


def _read_error(leads: LeadsFile, next_record: int, exc: Exception) -> str:
    message = str(exc)
    if "straddl" in message:  # pyarrow's word for a record larger than a block
        reason = f"a quote never closes, or a record is over {_BLOCK_KIB} KiB"
    else:
        reason = " ".join(message.split())[:200]
    after = max(next_record - leads.header_record - 1, 0)
    return f"cannot read {leads.path} after row {after}: {reason}"


class _RecordNumbers:
    """Numbers pyarrow's batches and puts back the records pyarrow set aside.

    pyarrow skips a record whose cell count differs from the header's, reporting it to
    ``set_aside`` with its 1-based record number before it returns the batch the record
    sat in. ``number`` gives each batch's rows their record numbers, inserts the set-aside
    records (padded or cut to the header's width), and drops blank records and the records
    up to the header, returning the data rows with their ``row``.
    """

    def __init__(self, leads: LeadsFile) -> None:
        self._leads = leads
        self._schema = pa.schema(
            [(ROW_COLUMN, pa.int64())] + [(name, pa.string()) for name in leads.columns]
        )
        self._set_aside: deque[tuple[int, str]] = deque()
        self.next_record = 1

    def set_aside(self, invalid_row: Any) -> str:
        """pyarrow's ``invalid_row_handler``: keep the record for ``number``."""
        self._set_aside.append((invalid_row.number, invalid_row.text))
        return "skip"

    def number(self, batch: pa.RecordBatch | None) -> pa.Table:
        """The data rows of ``batch`` and of the records set aside among them, in file order.

        ``None`` stands for the end of the file: what is left set aside is returned.
        """
        parsed = 0 if batch is None else batch.num_rows
        spans: list[np.ndarray[Any, np.dtype[np.int64]]] = []
        aside_records: list[int] = []
        texts: list[str] = []
        queue = self._set_aside
        record = self.next_record
        remaining = parsed
        # Walk the records in order: set-aside ones wherever their number comes up, the
        # batch's rows in the gaps. pyarrow reports set-aside records from its own threads,
        # reading ahead, so the queue may already hold records beyond this batch: only its
        # head is ever looked at.
        while True:
            while queue and queue[0][0] == record:
                texts.append(queue.popleft()[1])
                aside_records.append(record)
                record += 1
            if not remaining:
                break
            stop = record + remaining
            if queue:
                stop = min(stop, queue[0][0])
                # Guards the promise that no record is lost or numbered twice.
                if stop <= record:
                    raise RuntimeError(f"pyarrow numbered records out of order at {record}")
            spans.append(np.arange(record, stop, dtype=np.int64))
            remaining -= stop - record
            record = stop
        self.next_record = record
        if batch is None and queue:
            raise RuntimeError(f"pyarrow set aside records past the end, at {record}")

        offset = self._leads.header_record
        tables = []
        if parsed:
            rows = pa.array(np.concatenate(spans) - offset)
            tables.append(pa.Table.from_batches([batch]).add_column(0, ROW_COLUMN, rows))
        if texts:
            cells = self._split(texts, first_row=aside_records[0] - offset)
            columns: list[Any] = [np.array(aside_records, dtype=np.int64) - offset]
            columns += [list(column) for column in zip(*cells, strict=True)]
            tables.append(pa.Table.from_arrays(columns, schema=self._schema))
        if not tables:
            return self._schema.empty_table()
        table = pa.concat_tables(tables)
        if texts and parsed:
            table = table.sort_by(ROW_COLUMN)
        return _drop_blank_and_header(table, self._leads.columns)

    def _split(self, texts: list[str], *, first_row: int) -> list[list[str]]:
        """The cells of set-aside records, split as pyarrow splits them and fitted to the
        header's width: missing cells are ``""``, extra cells are dropped."""
        width = len(self._leads.columns)
        delimiter = self._leads.delimiter
        # One reader for all: each text is one whole record, and only the file's last one
        # can end inside a quote, so texts and records pair up.
        try:
            records = list(csv.reader(texts, delimiter=delimiter))
        except csv.Error as exc:
            # A cell over csv.field_size_limit (128 KiB), a process-wide setting that is not
            # this module's to change.
            raise CsvError(f"cannot read {self._leads.path} near row {first_row}: {exc}") from exc
        return [cells[:width] + [""] * (width - len(cells)) for cells in records]


def _drop_blank_and_header(table: pa.Table, columns: Sequence[str]) -> pa.Table:
    keep = pc.greater(table[ROW_COLUMN], 0)
    blank: Any = None
    for name in columns:
        empty = pc.equal(pc.utf8_trim_whitespace(table[name]), "")
        blank = empty if blank is None else pc.and_(blank, empty)
        # Most records have a non-blank first cell: stop at the first column that proves it.
        if not pc.any(blank).as_py():
            blank = None
            break
    if blank is not None:
        keep = pc.and_(keep, pc.invert(blank))
    if pc.all(keep).as_py():
        return table
    return table.filter(keep)
