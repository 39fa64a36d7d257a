"""dialer.leads.files and dialer.leads.chunks against real files: encodings, delimiters,
quoting, ragged rows, errors."""

from __future__ import annotations

import csv
import io
import random
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialer.errors import CsvError
from dialer.leads.chunks import Chunk, iter_chunks
from dialer.leads.files import BLOCK_SIZE, DELIMITERS, open_leads
from dialer.leads.headers import ROW_COLUMN

DATA = Path(__file__).parents[2] / "data"

# The table every tests/data/leads_* file holds, in its own encoding and delimiter.
SAMPLE = [
    ["José", "Álvarez", "2125550123", "São Paulo"],
    ["Zoë", "Müller", "0044 20 7946 0958", "Zürich"],
    ["François", "Lefèvre", "+1 (514) 555-0178", "Montréal"],
    ["Ægir", "Øster", "2125550188.0", "Århus"],
]


def read_all(path: Path, chunksize: int = 100_000, **kwargs: str) -> pd.DataFrame:
    """Every row of the file in one frame, checking each chunk's promises on the way."""
    leads = open_leads(path, **kwargs)
    chunks = list(iter_chunks(leads, chunksize=chunksize))
    for chunk in chunks:
        assert_text_frame(chunk, leads.columns)
    assert [c.bytes_read for c in chunks] == sorted(c.bytes_read for c in chunks)
    if chunks:
        assert chunks[-1].bytes_read == leads.size_bytes
        return pd.concat([c.frame for c in chunks], ignore_index=True)
    return pd.DataFrame(columns=[ROW_COLUMN, *leads.columns])


def assert_text_frame(chunk: Chunk, columns: tuple[str, ...]) -> None:
    frame = chunk.frame
    assert list(frame.columns) == [ROW_COLUMN, *columns]
    assert frame[ROW_COLUMN].dtype == "int64"
    for column in columns:
        assert frame[column].map(type).eq(str).all(), column


def cells(frame: pd.DataFrame) -> list[list[str]]:
    return frame.drop(columns=ROW_COLUMN).to_numpy().tolist()


def write(tmp_path: Path, content: str | bytes, name: str = "leads.csv") -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8", newline="")
    else:
        path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    ("name", "encoding", "delimiter"),
    [
        ("leads_utf8.csv", "utf-8", ","),
        ("leads_utf8_bom.csv", "utf-8-sig", ","),
        ("leads_cp1252.csv", "cp1252", ";"),
        ("leads_utf16.txt", "utf-16", "\t"),
        ("leads_tab.tsv", "utf-8", "\t"),
        ("leads_pipe.csv", "utf-8", "|"),
    ],
)
def test_encodings_and_delimiters_keep_names_intact(
    name: str, encoding: str, delimiter: str
) -> None:
    leads = open_leads(DATA / name)
    assert (leads.encoding, leads.delimiter) == (encoding, delimiter)
    assert leads.headers == ("First Name", "Last Name", "Phone", "City")
    assert leads.columns == ("first_name", "last_name", "phone", "city")
    assert leads.phone_column == "phone"
    frame = read_all(DATA / name)
    assert cells(frame) == SAMPLE
    assert frame[ROW_COLUMN].tolist() == [1, 2, 3, 4]


def test_utf8_valid_only_at_the_start_is_read_as_cp1252(tmp_path: Path) -> None:
    # Over 2 MiB of ASCII, then one cp1252 name: a sniffer looking at the start would say UTF-8.
    body = "".join(f"Lead {i},2125550123\r\n" for i in range(120_000))
    path = write(tmp_path, ("Name,Phone\r\n" + body + "José,2125550147\r\n").encode("cp1252"))
    assert path.stat().st_size > 2 << 20
    assert open_leads(path).encoding == "cp1252"
    last = read_all(path).iloc[-1]
    assert (last["name"], last["phone"], last[ROW_COLUMN]) == ("José", "2125550147", 120_001)


def test_utf8_character_across_a_block_boundary_stays_utf8(tmp_path: Path) -> None:
    # "é" is two bytes: put its first byte last in the first block.
    head = "Name,Phone\n" + ("x" * 97 + ",1\n") * (BLOCK_SIZE // 100 - 1)
    head += "y" * (BLOCK_SIZE - 1 - len(head) - len(",1\n")) + ",1\n"
    assert len(head) == BLOCK_SIZE - 1
    path = write(tmp_path, head + "é,2\n")
    assert open_leads(path).encoding == "utf-8"
    assert cells(read_all(path))[-1] == ["é", "2"]


def test_latin1_when_cp1252_cannot_decode(tmp_path: Path) -> None:
    # 0x81 has no meaning in cp1252; latin-1 reads every byte.
    path = write(tmp_path, b"Name,Phone\nM\xfcller\x81,2125550123\n")
    assert open_leads(path).encoding == "latin-1"
    assert cells(read_all(path)) == [["Müller\x81", "2125550123"]]


def test_quoted_delimiters_quotes_and_newlines(tmp_path: Path) -> None:
    frame = read_all(DATA / "leads_quoted.csv")
    assert cells(frame) == [
        ["Smith, Jr.", "2125550123", 'likes "quotes"'],
        ["Ann", "2125550147", "line one\nline two, with comma"],
        ["Bob", "2125550186", "plain"],
    ]
    # Records, not lines: Bob is on line 5 but is the third record.
    assert frame[ROW_COLUMN].tolist() == [1, 2, 3]


def test_phone_cells_stay_exactly_as_written(tmp_path: Path) -> None:
    phones = ["2125552674", "00441234567890", "2125552674.0", "+1 (212) 555-0123", "1.2E10", "NA"]
    path = write(tmp_path, "Phone,Name\n" + "".join(f"{p},x\n" for p in phones) + ",y\n")
    frame = read_all(path)
    assert frame["phone"].tolist() == [*phones, ""]
    assert not frame.isna().any().any()


def test_excel_sep_line_names_the_delimiter(tmp_path: Path) -> None:
    path = write(tmp_path, "sep=;\r\nName;Phone;Note\r\nAnn;2125550123;a,b,c\r\n")
    leads = open_leads(path)
    assert (leads.delimiter, leads.headers, leads.header_record) == (
        ";",
        ("Name", "Phone", "Note"),
        2,
    )
    frame = read_all(path)
    assert (cells(frame), frame[ROW_COLUMN].tolist()) == ([["Ann", "2125550123", "a,b,c"]], [1])


def test_semicolon_file_with_commas_in_cells(tmp_path: Path) -> None:
    path = write(tmp_path, "Name;Phone\nSmith, Jr.;2125550123\nDoe, Jane;2125550147\n")
    assert open_leads(path).delimiter == ";"


def test_short_long_and_blank_records(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "Name,Phone,City\n"
        "Ann,2125550123,NYC\n"  # row 1
        "\n"  # row 2: blank line, skipped
        "Bob,2125550147\n"  # row 3: short, padded
        ",,\n"  # row 4: empty cells, skipped
        "Cy,2125550186,LA,extra,more\n"  # row 5: long, cut
        "  ,\t, \n"  # row 6: whitespace only, skipped
        "Dee\n",  # row 7: one cell
    )
    frame = read_all(path)
    assert frame[ROW_COLUMN].tolist() == [1, 3, 5, 7]
    assert cells(frame) == [
        ["Ann", "2125550123", "NYC"],
        ["Bob", "2125550147", ""],
        ["Cy", "2125550186", "LA"],
        ["Dee", "", ""],
    ]


def test_blank_lines_before_the_header(tmp_path: Path) -> None:
    path = write(tmp_path, "\n,,\nName,Phone\nAnn,1\n")
    leads = open_leads(path)
    assert (leads.headers, leads.header_record) == (("Name", "Phone"), 3)
    frame = read_all(path)
    assert (cells(frame), frame[ROW_COLUMN].tolist()) == ([["Ann", "1"]], [1])


def test_chunk_boundaries_keep_row_numbers(tmp_path: Path) -> None:
    path = write(tmp_path, "Phone\n" + "".join(f"{i}\n" for i in range(1, 11)))
    chunks = list(iter_chunks(open_leads(path), chunksize=3))
    assert [len(c.frame) for c in chunks] == [3, 3, 3, 1]
    assert [c.frame[ROW_COLUMN].tolist() for c in chunks] == [
        [1, 2, 3],
        [4, 5, 6],
        [7, 8, 9],
        [10],
    ]
    assert [c.frame["phone"].tolist() for c in chunks][-1] == ["10"]


def test_many_blocks_with_ragged_and_multiline_records(tmp_path: Path) -> None:
    """Over several of pyarrow's blocks, records set aside and put back keep their place."""
    rng = random.Random(7)
    expected: list[tuple[int, list[str]]] = []
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Name", "Phone", "Notes", "City"])
    for row in range(1, 30_001):
        kind = rng.random()
        record = [f"n{row}", str(2125550000 + row), f"note {row}", "NYC"]
        if kind < 0.02:
            out.write("\n")
            continue
        if kind < 0.05:
            record = record[: rng.randint(1, 3)]
        elif kind < 0.08:
            record = [*record, "extra", "more"]
        elif kind < 0.10:
            record[2] = f"line one, {row}\nline two"
        writer.writerow(record)
        expected.append((row, [*record, "", "", ""][:4]))
    path = write(tmp_path, out.getvalue())
    assert path.stat().st_size > 3 * BLOCK_SIZE
    frame = read_all(path, chunksize=7_000)
    assert frame[ROW_COLUMN].tolist() == [row for row, _ in expected]
    assert cells(frame) == [record for _, record in expected]


def test_cells_over_128_kib(tmp_path: Path) -> None:
    big = "x" * 200_000
    path = write(tmp_path, f"Name,Phone\n{big},1\nAnn,2\n")
    assert cells(read_all(path)) == [[big, "1"], ["Ann", "2"]]
    # Python's csv module, which splits short and long records, has a 128 KiB limit.
    path = write(tmp_path, f"Name,Phone\nAnn,1\n{big}\n", "short.csv")
    with pytest.raises(CsvError, match=r"^cannot read .*short.csv near row 2: field larger"):
        read_all(path)


def test_header_only_file_has_no_rows(tmp_path: Path) -> None:
    path = write(tmp_path, "First Name,Phone\n")
    assert open_leads(path).columns == ("first_name", "phone")
    assert list(iter_chunks(open_leads(path))) == []


def test_given_phone_column_by_header_or_name(tmp_path: Path) -> None:
    path = write(tmp_path, "Name,Phone,Mobile Number,Country\nAnn,1,2,US\n")
    assert open_leads(path).phone_column == "phone"
    assert open_leads(path, phone_column="Mobile Number").phone_column == "mobile_number"
    assert open_leads(path, phone_column="mobile_number").phone_column == "mobile_number"
    assert open_leads(path, phone_column=" MobileNumber ").phone_column == "mobile_number"
    leads = open_leads(path, country_column="Country")
    assert leads.country_column == "country"


def test_several_phone_columns_found_or_given_in_order(tmp_path: Path) -> None:
    path = write(tmp_path, "Name,Mobile Number,Téléphone,Phone Type\nAnn,1,2,home\n")
    assert open_leads(path).phone_columns == ("mobile_number", "téléphone")
    given = open_leads(path, phone_column=("téléphone", "Mobile Number", "mobile_number"))
    assert given.phone_columns == ("téléphone", "mobile_number")
    assert given.header("téléphone") == "Téléphone"


def test_user_errors_are_one_line_naming_the_file(tmp_path: Path) -> None:
    leads_csv = write(tmp_path, "Name,E-mail\nAnn,a@example.com\n")
    cases = {
        tmp_path / "missing.csv": f"{tmp_path / 'missing.csv'}: no such file",
        tmp_path: f"{tmp_path} is a directory, not a CSV file",
        write(tmp_path, "", "empty.csv"): f"{tmp_path / 'empty.csv'} is empty",
        write(tmp_path, "\n \r\n,,\n", "blank.csv"): (
            f"{tmp_path / 'blank.csv'} is empty (no header row)"
        ),
        leads_csv: (
            f"no phone column in {leads_csv}; columns are: Name, E-mail; use --phone-column"
        ),
    }
    for path, message in cases.items():
        with pytest.raises(CsvError) as info:
            open_leads(path)
        assert str(info.value) == message
    with pytest.raises(CsvError, match=r"^no column 'Mobile' in .*\(--phone-column\); "):
        open_leads(leads_csv, phone_column="Mobile")
    with pytest.raises(CsvError, match=r"^no column 'Country' in .*\(--country-column\); "):
        open_leads(leads_csv, phone_column="Name", country_column="Country")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (bytes(range(256)) * 4, r"is not a CSV file \(it holds binary data\)$"),
        (b"PK\x03\x04\x14\x00\x06\x00", r"a ZIP archive \(an Excel \.xlsx workbook\?\)"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", r"an Excel \.xls workbook"),
        (b"%PDF-1.7\n", "a PDF document"),
    ],
)
def test_binary_files_are_refused(tmp_path: Path, content: bytes, message: str) -> None:
    with pytest.raises(CsvError, match=message):
        open_leads(write(tmp_path, content))


def test_quote_that_never_closes_in_a_big_file(tmp_path: Path) -> None:
    body = "".join(f"n{i},2125550123\n" for i in range(200_000))
    path = write(tmp_path, 'Name,Phone\nAnn,2125550100\n"Bob,2125550147\n' + body)
    leads = open_leads(path)
    with pytest.raises(CsvError, match=r"after row 1: a quote never closes"):
        list(iter_chunks(leads))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(), st.binary()), st.booleans())
def test_any_file_reads_or_raises_csv_error(content: str | bytes, with_header: bool) -> None:
    if with_header:
        content = ("Phone,Name\n" + content) if isinstance(content, str) else b"Phone\n" + content
    with tempfile.TemporaryDirectory() as tmp:
        path = write(Path(tmp), content)
        try:
            leads = open_leads(path, phone_column=None)
            rows = [r for c in iter_chunks(leads, chunksize=2) for r in c.frame[ROW_COLUMN]]
        except CsvError as exc:
            assert "\n" not in str(exc) and "\r" not in str(exc)
            return
    assert rows == sorted(set(rows))
    assert all(row >= 1 for row in rows)


# Cells of any text but NUL (a NUL makes it a binary file).
CELL = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.lists(CELL, min_size=3, max_size=3), max_size=30),
    st.sampled_from(DELIMITERS),
    # csv.writer quotes a cell holding "\r" only when "\r" is in its line terminator, so a
    # "\n" file is only unambiguous when every cell is quoted.
    st.sampled_from([("\r\n", csv.QUOTE_MINIMAL), ("\r\n", csv.QUOTE_ALL), ("\n", csv.QUOTE_ALL)]),
)
def test_csv_writer_output_reads_back_exactly(
    records: list[list[str]], delimiter: str, style: tuple[str, int]
) -> None:
    newline, quoting = style
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=newline, quoting=quoting)
    writer.writerow(["Phone", "First Name", "Notes"])
    writer.writerows(records)
    expected = [
        (row, record)
        for row, record in enumerate(records, start=1)
        if any(cell.strip() for cell in record)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        path = write(Path(tmp), out.getvalue())
        assert open_leads(path).delimiter == delimiter
        frame = read_all(path, chunksize=4)
    assert frame[ROW_COLUMN].tolist() == [row for row, _ in expected]
    assert cells(frame) == [record for _, record in expected]
