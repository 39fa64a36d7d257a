"""Looking at a leads file once to say how to read it: encoding, delimiter, header, column
names, which columns hold phone numbers (``open_leads``). ``dialer.leads.chunks`` then
reads the rows.

What a user can rely on:

- **Encoding.** UTF-8 (with or without a BOM) when the *whole* file is valid UTF-8; UTF-16 when
  it starts with a UTF-16 BOM (Excel's "Unicode text"); otherwise cp1252 (Excel on Windows),
  or latin-1 when the file holds one of the five bytes cp1252 leaves undefined.
- **Delimiter.** One of ``, ; TAB |``: the one that splits the header into several fields and
  the first rows into as many. An Excel ``sep=;`` first line names it outright.
- **Header.** The first record that is not blank. A file with a header and no rows is valid
  and has zero rows; a file with no header at all is an error.

Errors the user can fix are ``CsvError`` with one line naming the file.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from dialer.errors import CsvError
from dialer.leads.headers import column_names, find_phone_columns, snake_case

DELIMITERS: tuple[str, ...] = (",", ";", "\t", "|")
"""Delimiters ``open_leads`` recognises, preferred in this order when the evidence ties."""

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
    uses (``column_names(headers)``, same order). ``phone_columns`` (most likely first) and
    ``country_column`` are names in ``columns``. ``encoding`` is a Python codec name
    (``utf-8``, ``utf-8-sig``, ``utf-16``, ``cp1252``, ``latin-1``). ``header_record`` is the
    header's 1-based record number in the file: 1, unless blank lines or Excel's ``sep=``
    line come first.
    """

    path: Path
    encoding: str
    delimiter: str
    headers: tuple[str, ...]
    columns: tuple[str, ...]
    phone_columns: tuple[str, ...]
    country_column: str | None
    size_bytes: int
    header_record: int = 1

    @property
    def phone_column(self) -> str:
        """The most likely phone column."""
        return self.phone_columns[0]

    def header(self, column: str) -> str:
        """The header cell, as written, of the column named ``column``."""
        return self.headers[self.columns.index(column)]


def open_leads(
    path: Path | str,
    *,
    phone_column: str | Sequence[str] | None = None,
    country_column: str | None = None,
) -> LeadsFile:
    """Look at a leads file and say how to read it (no rows are returned).

    The whole file is read once, in blocks, to be sure of its encoding (a UTF-8 file with one
    cp1252 name on its last line is cp1252). ``phone_column`` (one name, or several in order
    of preference) and ``country_column`` name a column by its header as written or by its
    column name; without ``phone_column`` the phone columns are found by
    ``find_phone_columns``. There is no country column unless one is named.

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
    phones = _phone_columns(path, phone_column, headers, columns)
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
        phone_columns=phones,
        country_column=country,
        size_bytes=size,
        header_record=header_record,
    )


def _phone_columns(
    path: Path, given: str | Sequence[str] | None, headers: Sequence[str], columns: Sequence[str]
) -> tuple[str, ...]:
    """The phone columns the user named (by header or name), else those found by name."""
    if given is None:
        found = find_phone_columns(columns)
        if not found:
            raise CsvError(
                f"no phone column in {path}; columns are: {_describe(headers)}; use --phone-column"
            )
        return found
    names = (given,) if isinstance(given, str) else tuple(given)
    named = (_find_column(path, name, headers, columns, "--phone-column") for name in names)
    return tuple(dict.fromkeys(named))


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
