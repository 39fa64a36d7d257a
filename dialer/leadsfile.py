"""Reading leads CSV files: the one place pandas and pyarrow read a file.

``open_leads`` looks at a file once and says how to read it: encoding, delimiter, headers,
column names, which column holds the phone number. ``iter_chunks`` then streams the rows as
pandas frames of text, in memory that does not grow with the file.

What a user can rely on:

- **Encoding.** UTF-8 (with or without a BOM) when the *whole* file is valid UTF-8; UTF-16 when
  it starts with a UTF-16 BOM (Excel's "Unicode text"); otherwise cp1252 (Excel on Windows),
  or latin-1 when the file holds one of the five bytes cp1252 leaves undefined.
- **Delimiter.** One of ``, ; TAB |``: the one that splits the header into several fields and
  the first rows into as many. An Excel ``sep=;`` first line names it outright.
- **Header.** The first record that is not blank. A file with a header and no rows is valid
  and has zero rows; a file with no header at all is an error.
- **Cells are text, exactly as written.** No NaN, no numbers: a missing cell is ``""``,
  ``0044...`` keeps its zeros, ``2125552674.0`` stays that text (``dialer.phones`` reads it).
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

import codecs
import csv
import io
import os
import re
import unicodedata
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from dialer.errors import CsvError

__all__ = [
    "BLOCK_SIZE",
    "DELIMITERS",
    "PHONE_COLUMN_NAMES",
    "ROW_COLUMN",
    "Chunk",
    "LeadsFile",
    "column_names",
    "find_phone_column",
    "iter_chunks",
    "open_leads",
    "snake_case",
]

PHONE_COLUMN_NAMES: tuple[str, ...] = (
    "phone",
    "phone_number",
    "mobile",
    "mobile_phone",
    "mobile_number",
    "cell",
    "cell_phone",
    "cellphone",
    "cell_number",
    "telephone",
    "telephone_number",
    "tel",
    "phone_no",
    "contact_number",
    "contact_phone",
    "whatsapp",
    "whatsapp_number",
    "msisdn",
    "number",
)
"""Column names (after ``snake_case``) taken as the phone column, first present wins."""

# Words that, ending a column name ("Work Phone", "Primary Mobile"), mark a phone column when
# no name in PHONE_COLUMN_NAMES is present. Only the last word counts: "phone_type" is not one.
_PHONE_WORDS = frozenset({"phone", "mobile", "cell", "cellphone", "telephone", "tel", "whatsapp"})

DELIMITERS: tuple[str, ...] = (",", ";", "\t", "|")
"""Delimiters ``open_leads`` recognises, preferred in this order when the evidence ties."""

ROW_COLUMN = "row"
"""The column ``iter_chunks`` adds; a lead column that would take this name becomes ``lead_row``
(the export's rule for a lead column named like one of its own, see ``campaigns.export``)."""

BLOCK_SIZE = 256 * 1024
"""Bytes pyarrow parses at a time, so the longest record a leads file may hold; the start of
the file this long is also where the delimiter and header are found. Memory grows with it:
pyarrow reads many blocks ahead."""
_BLOCK_KIB = BLOCK_SIZE >> 10
# Records looked at, after the header, to choose the delimiter.
_SAMPLE_RECORDS = 50
_CP1252_UNDEFINED = b"\x81\x8d\x8f\x90\x9d"
_NOT_CSV_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx workbook?); save it as CSV first"),
    (b"\xd0\xcf\x11\xe0", "an Excel .xls workbook; save it as CSV first"),
    (b"%PDF", "a PDF document, not a CSV file"),
)
_NO_DELIMITERS = str.maketrans("", "", "".join(DELIMITERS))
_EXCEL_SEP_LINE = re.compile(r'sep=([^"\r\n])[ \t]*(?:\r\n|\r|\n|$)', re.IGNORECASE)


@dataclass(frozen=True)
class LeadsFile:
    """How to read one leads file, as found by ``open_leads``.

    ``headers`` are the header cells as written; ``columns`` the names the rest of the dialer
    uses (``column_names(headers)``, same order). ``phone_column`` and ``country_column`` are
    names in ``columns``. ``encoding`` is a Python codec name (``utf-8``, ``utf-8-sig``,
    ``utf-16``, ``cp1252``, ``latin-1``). ``header_record`` is the header's 1-based record
    number in the file: 1, unless blank lines or Excel's ``sep=`` line come first.
    """

    path: Path
    encoding: str
    delimiter: str
    headers: tuple[str, ...]
    columns: tuple[str, ...]
    phone_column: str
    country_column: str | None
    size_bytes: int
    header_record: int = 1


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


def snake_case(header: str) -> str:
    """The snake_case form of one header cell: ``"First Name"`` -> ``"first_name"``.

    Camel case is split (``FirstName``, ``ZIPCode`` -> ``first_name``, ``zip_code``), anything
    that is not a letter or digit becomes one ``_`` (``"Phone #"`` -> ``phone``, ``"E-mail"``
    -> ``e_mail``), and letters are lower-cased after NFKC normalization. Non-ASCII letters
    are kept (``"Prénom"`` -> ``prénom``): Python identifiers and ``str.format`` fields allow
    them, so message templates can still say ``{prénom}``.

    The result is ``""`` when the header has no letter or digit (``column_names`` then calls
    it ``column_N``); otherwise a Python identifier with no ``_`` at either end, except a
    leading one added when it would start with a digit (``"2nd Phone"`` -> ``_2nd_phone``).
    ``snake_case(snake_case(h)) == snake_case(h)``.
    """
    text = unicodedata.normalize("NFKC", header)
    text = _split_camel_case(text)
    # lower() and NFKC can each undo the other's work on a few characters; repeat until stable
    # so that the function is idempotent.
    lowered = unicodedata.normalize("NFKC", text.lower())
    while lowered != text:
        text, lowered = lowered, unicodedata.normalize("NFKC", lowered.lower())
    words = "".join(ch if ("_" + ch).isidentifier() else "_" for ch in text)
    name = "_".join(part for part in words.split("_") if part)
    if name and not name.isidentifier():
        name = "_" + name
    return name


def _split_camel_case(text: str) -> str:
    """Put ``_`` where a lower-case word starts with a capital: ``FirstName``, ``ZIPCode``."""
    out: list[str] = []
    for i, ch in enumerate(text):
        if i and ch.isupper() and ch.lower() != ch:
            before = text[i - 1]
            after = text[i + 1] if i + 1 < len(text) else ""
            if before.islower() or before.isdigit() or (before.isupper() and after.islower()):
                out.append("_")
        out.append(ch)
    return "".join(out)


def column_names(headers: Sequence[str]) -> tuple[str, ...]:
    """The unique column names of a header row, in order.

    Each is ``snake_case(header)``; a header with no letter or digit becomes ``column_N``
    (N its 1-based position); a repeated name gets ``_2``, ``_3``... in order of appearance,
    and a header whose name would be ``row`` (``ROW_COLUMN`` is taken) is ``lead_row``.
    """
    taken = {ROW_COLUMN}
    names: list[str] = []
    for position, header in enumerate(headers, start=1):
        base = snake_case(header) or f"column_{position}"
        if base == ROW_COLUMN:
            base = f"lead_{ROW_COLUMN}"
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}_{n}"
        taken.add(name)
        names.append(name)
    return tuple(names)


def find_phone_column(columns: Sequence[str]) -> str | None:
    """The column most likely to hold phone numbers, or None.

    The first name of ``PHONE_COLUMN_NAMES`` present wins; failing that, the first column
    whose last word is a phone word (``work_phone``, ``primary_mobile``).
    """
    for name in PHONE_COLUMN_NAMES:
        if name in columns:
            return name
    for column in columns:
        if column.rsplit("_", 1)[-1] in _PHONE_WORDS:
            return column
    return None


def open_leads(
    path: Path | str,
    *,
    phone_column: str | None = None,
    country_column: str | None = None,
) -> LeadsFile:
    """Look at a leads file and say how to read it (no rows are returned).

    The whole file is read once, in blocks, to be sure of its encoding (a UTF-8 file with one
    cp1252 name on its last line is cp1252). ``phone_column`` and ``country_column`` name a
    column by its header as written or by its column name; without ``phone_column`` the phone
    column is found by ``find_phone_column``. There is no country column unless one is named.

    Raises ``CsvError`` (one line naming the file) when the file is missing or unreadable,
    empty or has no header, is binary or a spreadsheet, has no phone column, or lacks a
    named column.
    """
    path = Path(path)
    try:
        with path.open("rb") as f:
            size = os.fstat(f.fileno()).st_size
            encoding, first_block = _sniff_encoding(path, f)
    except FileNotFoundError:
        raise CsvError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CsvError(f"{path} is a directory, not a CSV file") from None
    except OSError as exc:
        raise CsvError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if size == 0:
        raise CsvError(f"{path} is empty")
    sample = codecs.getincrementaldecoder(encoding)().decode(
        first_block, final=len(first_block) == size
    )
    delimiter, headers, header_record = _sniff_layout(
        path, sample, complete=len(first_block) == size
    )
    columns = column_names(headers)
    if phone_column is None:
        phone = find_phone_column(columns)
        if phone is None:
            raise CsvError(
                f"no phone column in {path}; columns are: {_describe(headers)}; use --phone-column"
            )
    else:
        phone = _find_column(path, phone_column, headers, columns, "--phone-column")
    country = (
        None
        if country_column is None
        else _find_column(path, country_column, headers, columns, "--country-column")
    )
    return LeadsFile(
        path=path,
        encoding=encoding,
        delimiter=delimiter,
        headers=headers,
        columns=columns,
        phone_column=phone,
        country_column=country,
        size_bytes=size,
        header_record=header_record,
    )


def _sniff_encoding(path: Path, f: BinaryIO) -> tuple[str, bytes]:
    """The file's encoding and its first block; reads the whole file, a block at a time."""
    first = f.read(BLOCK_SIZE)
    for magic, what in _NOT_CSV_MAGIC:
        if first.startswith(magic):
            raise CsvError(f"{path} is {what}")
    if first.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        if not _decodes(f, first, "utf-16"):
            raise CsvError(f"{path} starts like UTF-16 text but is not valid UTF-16")
        return "utf-16", first
    utf8 = codecs.getincrementaldecoder("utf-8")()
    utf8_ok = cp1252_ok = True
    block = first
    while block:
        # NUL never occurs in text a spreadsheet writes (outside UTF-16, handled above).
        if b"\x00" in block:
            raise CsvError(f"{path} is not a CSV file (it holds binary data)")
        if not block.isascii():
            cp1252_ok = cp1252_ok and not any(byte in block for byte in _CP1252_UNDEFINED)
        # Every block goes through the decoder, ASCII ones too: a multi-byte sequence cut at
        # the end of one block must be completed by the start of the next.
        if utf8_ok:
            try:
                utf8.decode(block)
            except UnicodeDecodeError:
                utf8_ok = False
        block = f.read(BLOCK_SIZE)
    if utf8_ok:
        try:
            utf8.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8_ok = False
    if utf8_ok:
        return ("utf-8-sig" if first.startswith(codecs.BOM_UTF8) else "utf-8"), first
    return ("cp1252" if cp1252_ok else "latin-1"), first


def _decodes(f: BinaryIO, first: bytes, encoding: str) -> bool:
    """Whether ``first`` and the rest of ``f`` decode with ``encoding``."""
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        block = first
        while block:
            decoder.decode(block)
            block = f.read(BLOCK_SIZE)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _sniff_layout(path: Path, sample: str, *, complete: bool) -> tuple[str, tuple[str, ...], int]:
    """Delimiter, header cells and header record number, from the decoded start of the file.

    ``complete`` says the sample is the whole file; otherwise its last record may be cut.
    """
    skipped = 0
    candidates = DELIMITERS
    sep_line = _EXCEL_SEP_LINE.match(sample)
    if sep_line:
        candidates = (sep_line.group(1),)
        sample = sample[sep_line.end() :]
        skipped = 1
    best: tuple[tuple[bool, float, int, int], str, list[str], int] | None = None
    for preference, delimiter in enumerate(candidates):
        records = _sample_records(sample, delimiter, complete=complete)
        if records is None:
            continue
        blank = 0
        while blank < len(records) and _is_blank(records[blank]):
            blank += 1
        if blank == len(records):
            continue
        header = records[blank]
        rows = [r for r in records[blank + 1 :] if not _is_blank(r)]
        fitting = sum(len(r) == len(header) for r in rows) / len(rows) if rows else 1.0
        score = (len(header) > 1, fitting, len(header), -preference)
        if best is None or score > best[0]:
            best = (score, delimiter, header, blank)
    if best is None:
        if _is_blank_text(sample):
            raise CsvError(f"{path} is empty (no header row)")
        raise CsvError(
            f"cannot find a header row in {path}: a quote never closes, "
            f"or the first record is over {_BLOCK_KIB} KiB"
        )
    _, delimiter, header, blank = best
    return delimiter, tuple(header), skipped + blank + 1


def _sample_records(sample: str, delimiter: str, *, complete: bool) -> list[list[str]] | None:
    """The first records of ``sample`` split by ``delimiter``; None if it cannot be split."""
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
    records: list[list[str]] = []
    try:
        for record in reader:
            records.append(record)
            if len(records) > _SAMPLE_RECORDS:
                break
    except csv.Error:
        # A cell over csv.field_size_limit (128 KiB): judge by the records before it.
        return records or None
    # The sample ended inside the file: its last record may be cut short.
    return records if complete else records[:-1]


def _is_blank(cells: Sequence[str]) -> bool:
    """Whether a sampled record is blank whatever the delimiter: ``,,,`` split by ``;`` is
    one cell, but no header."""
    return _is_blank_text("".join(cells))


def _is_blank_text(text: str) -> bool:
    return not text.translate(_NO_DELIMITERS).strip()


def _find_column(
    path: Path, given: str, headers: Sequence[str], columns: Sequence[str], option: str
) -> str:
    """The column name for a column the user named by header or by column name."""
    for header, column in zip(headers, columns, strict=True):
        if given.strip() in (header.strip(), column):
            return column
    wanted = snake_case(given)
    if wanted in columns:
        return wanted
    raise CsvError(f"no column {given!r} in {path} ({option}); columns are: {_describe(headers)}")


def _describe(headers: Sequence[str], limit: int = 30) -> str:
    """Header cells for a one-line message: whitespace collapsed, long lists cut."""
    shown = [" ".join(h.split()) or '""' for h in headers[:limit]]
    more = f", ... ({len(headers) - limit} more)" if len(headers) > limit else ""
    return ", ".join(shown) + more


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
