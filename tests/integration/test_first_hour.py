"""Issue 14's closing trial: a new user's files, generated here, from import to export.

Three files as users bring them: a Facebook Lead Ads export (UTF-16 with tabs, ``p:+1...``
numbers, a ``state`` column), a HubSpot export (UTF-8 with a byte-order mark, "Phone Number"
and "Mobile Phone Number", some rows with only a mobile) and an Excel file saved as CSV
(cp1252, semicolons, French headers and accents). Each goes through ``campaign create
--dry-run``, ``campaign create``, ``campaign export -o - --excel`` and the HTTP API's upload
and export. Checked: the right phone columns and how many contacts each gave, every row a
contact or a reject (none lost), every lead column in the export, accents intact.
"""

from __future__ import annotations

import csv
import io
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dialer.api.app import create_app
from dialer.leads.headers import snake_case
from dialer.ledger.engine import make_engine
from tests.api.conftest import API_KEY, api_settings
from tests.cli.running import dialer, dialer_here

BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Trial:
    """A generated file and what a correct import makes of it."""

    filename: str
    content: bytes
    headers: list[str]
    rows: int
    options: tuple[str, ...]
    phone_columns: dict[str, int]
    """Each phone column used, preferred first: the contacts it gave."""
    rejected_rows: set[int]
    accented: dict[str, str]
    """A lead column (snake_case) and a value of it with accents, to find in the export."""


def facebook_lead_ads() -> Trial:
    headers = [
        "id", "created_time", "ad_id", "ad_name", "adset_name", "campaign_name", "form_name",
        "is_organic", "platform", "¿cuándo prefieres que te llamemos?", "full_name",
        "phone_number", "email", "city", "state",
    ]  # fmt: skip
    lines = []
    for i in range(40):
        phone = f"p:+1212555{2600 + i:04d}"
        if i == 12:
            phone = "p:+12125552603"  # the number of row 4 again: a duplicate
        if i == 25:
            phone = "p:+1555"  # too short
        name = "José Núñez" if i == 7 else f"Lead {i}"
        lines.append(
            [
                f"l:{9_100_000 + i}", "2026-11-30T14:03:22-05:00", "ag:120", "Spring — Video",
                "NYC 25-45", "Gym spring", "Free week", "false", "fb",
                "por la mañana" if i % 2 else "después de las 18h", name,
                phone, f"lead{i}@example.com", "New York", "NY",
            ]
        )  # fmt: skip
    text = "\r\n".join("\t".join(cells) for cells in [headers, *lines]) + "\r\n"
    return Trial(
        filename="facebook-leads.csv",
        content=text.encode("utf-16"),  # with its byte-order mark, as Facebook writes it
        headers=headers,
        rows=40,
        options=(),
        phone_columns={"phone_number": 38},
        rejected_rows={13, 26},
        accented={"full_name": "José Núñez"},
    )


def hubspot(prefer_mobile: bool = False) -> Trial:
    headers = [
        "Record ID", "First Name", "Last Name", "Email", "Phone Number", "Mobile Phone Number",
        "State/Region", "Lifecycle Stage", "Create Date",
    ]  # fmt: skip
    lines = []
    for i in range(30):
        phone = f"(212) 555-{2700 + i:04d}" if i < 20 or i in (27, 28) else ""
        mobile = f"+1 917 555 {2700 + i:04d}" if i < 27 else ""
        first = "Zoë" if i == 3 else f"Ann{i}"
        lines.append(
            [
                str(501 + i), first, "Brontë", f"c{i}@example.com", phone, mobile,
                "New York", "lead", "2026-11-02 10:15",
            ]
        )  # fmt: skip
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerows([headers, *lines])
    # 20 rows with both, 7 with only a mobile, 2 with only a landline, 1 with neither.
    counts = (
        {"Mobile Phone Number": 27, "Phone Number": 2}
        if prefer_mobile
        else {"Phone Number": 22, "Mobile Phone Number": 7}
    )
    return Trial(
        filename="hubspot-crm-exports-all-contacts-2026-12-04.csv",
        content=out.getvalue().encode("utf-8-sig"),
        headers=headers,
        rows=30,
        options=(
            ("--phone-column", "Mobile Phone Number", "--phone-column", "Phone Number")
            if prefer_mobile
            else ()
        ),
        phone_columns=counts,
        rejected_rows={30},
        accented={"first_name": "Zoë", "last_name": "Brontë"},
    )


def excel_cp1252() -> Trial:
    headers = ["Prénom", "Nom", "Téléphone", "Ville", "Société", "Remarque"]
    lines = []
    for i in range(25):
        phone = f"06 12 34 {50 + i // 10:02d} {i % 10:02d}"
        if i == 5:
            phone = "n/a"
        if i == 9:
            phone = f"+33 6 12 34 50 {i % 10:02d}".replace("50 09", "50 08")  # row 9's number
        first = "Hélène" if i == 2 else ("François" if i == 4 else f"Agnès {i}")
        lines.append(
            [first, "Lefèvre", phone, "Besançon", "Crème & Cœur", "Rappeler après 18h — €"]
        )
    text = "\r\n".join(";".join(cells) for cells in [headers, *lines]) + "\r\n"
    return Trial(
        filename="prospects.csv",
        content=text.encode("cp1252"),
        headers=headers,
        rows=25,
        options=("--region", "FR"),
        phone_columns={"Téléphone": 23},
        rejected_rows={6, 10},
        accented={"prénom": "Hélène", "ville": "Besançon", "société": "Crème & Cœur"},
    )


TRIALS: dict[str, Callable[[], Trial]] = {
    "facebook": facebook_lead_ads,
    "hubspot": hubspot,
    "hubspot-mobile-first": lambda: hubspot(prefer_mobile=True),
    "excel-cp1252": excel_cp1252,
}


@pytest.fixture(params=sorted(TRIALS))
def trial(request: pytest.FixtureRequest) -> Trial:
    return TRIALS[request.param]()


@pytest.fixture
def api(tmp_path: Path, sqlite_url: str) -> Iterator[TestClient]:
    """The HTTP API on its own SQLite ledger."""
    engine = make_engine(sqlite_url)
    app = create_app(api_settings(sqlite_url), engine, tmp_path / "api-files")
    with TestClient(app, headers={"X-API-Key": API_KEY}) as client:
        yield client
    engine.dispose()


def _csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _phone_line(trial: Trial) -> str:
    used = ", ".join(f"{header} ({count:,})" for header, count in trial.phone_columns.items())
    return f"Phone numbers from: {used}"


Dialer = Callable[..., subprocess.CompletedProcess[str]]


def test_the_cli_imports_and_exports_every_lead(tmp_path: Path, trial: Trial) -> None:
    """Each file through the commands, run in this process."""
    _imports_and_exports(tmp_path, trial, dialer_here)


def test_the_commands_as_processes(tmp_path: Path) -> None:
    """The UTF-16 file through the commands as a user runs them, each a process."""
    _imports_and_exports(tmp_path, facebook_lead_ads(), dialer)


def _imports_and_exports(tmp_path: Path, trial: Trial, run: Dialer) -> None:
    (tmp_path / trial.filename).write_bytes(trial.content)
    create = ("campaign", "create", "trial", "--account", "sandbox", "--csv", trial.filename)
    accepted = trial.rows - len(trial.rejected_rows)

    dry = run(tmp_path, *create, *trial.options, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "nothing was created" in dry.stdout
    assert _phone_line(trial) in dry.stdout.splitlines()
    assert f"  accepted   {accepted:>10,}" in dry.stdout.splitlines()
    assert dry.stdout.splitlines()[-1].startswith(
        f"Estimate: at 50/s inside 09:00-20:00 mon-sat, {accepted} contacts"
    )
    assert "trial" not in run(tmp_path, "campaign", "list").stdout

    made = run(tmp_path, *create, *trial.options)
    assert made.returncode == 0, made.stderr
    assert _phone_line(trial) in made.stdout.splitlines()
    assert f"  rows read  {trial.rows:>10,}" in made.stdout.splitlines()
    assert f"  accepted   {accepted:>10,}" in made.stdout.splitlines()
    rejects = _csv_rows((tmp_path / "trial-rejects.csv").read_text(encoding="utf-8"))
    assert {int(row["row"]) for row in rejects} == trial.rejected_rows

    exported = run(tmp_path, "campaign", "export", "trial", "-o", "-", "--excel")
    assert exported.returncode == 0, exported.stderr
    raw = exported.stdout.encode("utf-8")
    # Python reads stdout as UTF-8 text: the byte-order mark comes back as U+FEFF.
    assert raw.startswith(BOM)
    rows = _csv_rows(raw[len(BOM) :].decode("utf-8"))
    assert len(rows) == accepted
    # No lead lost: every data row of the file is a contact or a reject, once.
    assert sorted([int(r["row"]) for r in rows] + [int(r["row"]) for r in rejects]) == list(
        range(1, trial.rows + 1)
    )
    header = list(rows[0])
    for column in trial.headers:
        name = snake_case(column)
        assert name in header or f"lead_{name}" in header, (column, header)
    for column, value in trial.accented.items():
        assert value in {row[column] for row in rows}, column


def test_the_api_imports_them_as_the_cli_does(
    tmp_path: Path, trial: Trial, api: TestClient
) -> None:
    form: dict[str, str | list[str]] = {"name": "trial", "account": "sandbox"}
    if "--region" in trial.options:
        form["region"] = trial.options[trial.options.index("--region") + 1]
    named = [
        v for k, v in zip(trial.options, trial.options[1:], strict=False) if k == "--phone-column"
    ]
    if named:
        form["phone_column"] = named
    files = {"file": (trial.filename, trial.content, "text/csv")}

    preview = api.post("/campaigns/preview", files=files, data=form)
    assert preview.status_code == 200, preview.text
    assert preview.json()["phone_columns"] == trial.phone_columns
    assert api.get("/campaigns").json() == []

    made = api.post("/campaigns", files=files, data=form)
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["phone_columns"] == trial.phone_columns
    assert (body["rows_read"], body["rejected"]) == (trial.rows, len(trial.rejected_rows))
    rejects = _csv_rows(api.get(body["rejects_url"]).text)
    assert {int(row["row"]) for row in rejects} == trial.rejected_rows

    exported = api.get("/campaigns/trial/export", params={"excel": "1"})
    assert exported.content.startswith(BOM)
    rows = _csv_rows(exported.content[len(BOM) :].decode("utf-8"))
    assert sorted([int(r["row"]) for r in rows] + [int(r["row"]) for r in rejects]) == list(
        range(1, trial.rows + 1)
    )
    for column, value in trial.accented.items():
        assert value in {row[column] for row in rows}, column
