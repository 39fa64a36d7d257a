"""``dialer campaign export``: every lead column comes out, to a file or standard output."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from campaigns.export import FIXED_COLUMNS
from tests.cli.running import dialer_here

# A US lead file whose own columns share names with the export's (State, Status, Row...).
CLASHING = (
    "Row,First Name,Phone,State,Status,Error,Outcome,Attempts,Extension,Lead State,Ville\n"
    "7,Ann,(212) 555-2671,NY,hot,none,won,2,12,x,Montréal\n"
)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "leads.csv").write_text(CLASHING, encoding="utf-8")
    created = dialer_here(
        tmp_path, "campaign", "create", "spring", "--account", "sandbox", "--csv", "leads.csv"
    )
    assert created.returncode == 0, created.stderr
    return tmp_path


def test_lead_columns_named_like_export_columns_come_out_prefixed(workdir: Path) -> None:
    result = dialer_here(workdir, "campaign", "export", "spring", "-o", "out.csv")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Exported 1 contact of 'spring' to out.csv\n"
    with (workdir / "out.csv").open(newline="", encoding="utf-8") as stream:
        header, values = list(csv.reader(stream))
    assert tuple(header[: len(FIXED_COLUMNS)]) == FIXED_COLUMNS
    lead = dict(zip(header[len(FIXED_COLUMNS) :], values[len(FIXED_COLUMNS) :], strict=True))
    assert lead == {
        "lead_row": "7",
        "first_name": "Ann",
        "lead_phone": "(212) 555-2671",
        "lead_state": "NY",
        "lead_status": "hot",
        "lead_error": "none",
        "lead_outcome": "won",
        "lead_attempts": "2",
        "lead_extension": "12",
        "lead_lead_state": "x",
        "ville": "Montréal",
    }
    fixed = dict(zip(FIXED_COLUMNS, values, strict=False))
    assert (fixed["row"], fixed["status"], fixed["attempts"]) == ("1", "pending", "0")


def test_dash_writes_to_standard_output(workdir: Path) -> None:
    result = dialer_here(workdir, "campaign", "export", "spring", "-o", "-")
    assert result.returncode == 0, result.stderr
    assert not (workdir / "-").exists()
    assert result.stderr == "Exported 1 contact of 'spring'\n"
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["phone"], r["lead_state"], r["ville"]) for r in rows] == [
        ("+12125552671", "NY", "Montréal")
    ]


def test_excel_starts_with_a_byte_order_mark(workdir: Path) -> None:
    assert (
        dialer_here(workdir, "campaign", "export", "spring", "-o", "x.csv", "--excel").returncode
        == 0
    )
    data = (workdir / "x.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbfrow,phone,")
    assert "Montréal" in data.decode("utf-8-sig")
    plain = workdir / "p.csv"
    assert dialer_here(workdir, "campaign", "export", "spring", "-o", "p.csv").returncode == 0
    assert plain.read_bytes().startswith(b"row,phone,")
    streamed = dialer_here(workdir, "campaign", "export", "spring", "-o", "-", "--excel")
    assert streamed.stdout.startswith("\ufeffrow,phone,")


def test_timezones_are_written_out_even_where_the_ledger_keeps_a_calling_code(
    tmp_path: Path,
) -> None:
    # A North American personal number may be in any of the plan's 42 zones: the ledger keeps
    # "+1" for them (dialer.zone_keys), the export lists them as it did before.
    (tmp_path / "leads.csv").write_text("Phone\n(522) 422-0613\n(212) 555-2671\n")
    created = dialer_here(
        tmp_path, "campaign", "create", "c", "--account", "sandbox", "--csv", "leads.csv"
    )
    assert created.returncode == 0, created.stderr
    result = dialer_here(tmp_path, "campaign", "export", "c", "-o", "-")
    assert result.returncode == 0, result.stderr
    zones = {row["phone"]: row["timezones"] for row in csv.DictReader(io.StringIO(result.stdout))}
    assert zones["+12125552671"] == "America/New_York"
    assert zones["+15224220613"].split("|") == sorted(zones["+15224220613"].split("|"))
    assert len(zones["+15224220613"].split("|")) == 42
    assert "America/Anchorage" in zones["+15224220613"].split("|")
