"""Importing leads files into the ledger, on SQLite and Postgres: every row accounted for."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from campaigns.export import export_to_file
from campaigns.importer import import_campaign
from campaigns.spec import CampaignSpec
from dialer.errors import CampaignError, CsvError, InputError, TemplateError
from dialer.ledger import campaigns as ledger_campaigns
from dialer.ledger import contacts as ledger_contacts
from dialer.ledger.engine import session_scope, utcnow
from dialer.settings import AccountConfig, Settings
from dialer.templates import MessageTemplates

DATA = Path(__file__).parent.parent / "data"


def _settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        accounts={
            "sandbox": AccountConfig(name="sandbox", provider="sandbox"),
            "poly": AccountConfig.model_validate(
                {"name": "poly", "provider": "polyai", "token": "t"}
            ),
        },
    )


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def _spec(tmp_path: Path, leads: Path, **options: object) -> CampaignSpec:
    fields: dict[str, object] = {
        "name": "spring",
        "account": "sandbox",
        "csv_path": leads,
        "rejects_path": tmp_path / "rejects.csv",
        **options,
    }
    return CampaignSpec(**fields)  # type: ignore[arg-type]


def _rejects(tmp_path: Path) -> list[dict[str, str]]:
    with (tmp_path / "rejects.csv").open(newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def _names(engine: Engine) -> dict[str, tuple[str, str]]:
    with session_scope(engine) as session:
        campaign = ledger_campaigns.get_campaign(session, name="spring")
        assert campaign.id is not None
        return {
            c.phone: (c.first_name, c.last_name)
            for c in ledger_contacts.iter_contacts(session, campaign_id=campaign.id)
        }


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("utf-8", ","), ("utf-8-sig", ";"), ("cp1252", ";"), ("cp1252", "\t"), ("utf-8", "|")],
)
def test_encodings_and_delimiters_keep_names_intact(
    engine: Engine, database_url: str, tmp_path: Path, encoding: str, delimiter: str
) -> None:
    rows = [
        ["First Name", "Last Name", "Phone", "Note"],
        ["José", "Álvarez", "(212) 555-2671", "likes, commas"],
        ["Zoë", "Müller", "2125552672.0", 'said "hi"'],
    ]
    text = (
        "\r\n".join(
            delimiter.join(f'"{v}"' if "," in v or '"' in v else v for v in r)
            for r in [[v.replace('"', '""') if '"' in v else v for v in row] for row in rows]
        )
        + "\r\n"
    )
    leads = _write(tmp_path / "leads.csv", text, encoding)
    summary = import_campaign(engine, _settings(database_url), _spec(tmp_path, leads), now=utcnow())
    assert (summary.rows_read, summary.accepted, summary.rejected_total) == (2, 2, 0)
    assert _names(engine) == {
        "+12125552671": ("José", "Álvarez"),
        "+12125552672": ("Zoë", "Müller"),
    }


def test_every_row_ends_as_a_contact_or_a_reject_with_its_reason(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    suppress = _write(tmp_path / "dnc.txt", "+1 212 555 2679\n")
    leads = _write(
        tmp_path / "leads.csv",
        "Name,Mobile\n"
        "Ann Lee,212-555-2671\n"
        "Bob,\n"
        "Cy,asdf\n"
        "Di,+1 212 555 267\n"
        "Ed,(212) 555-2671\n"
        'Flo,=HYPERLINK("x")\n'
        "Gus,2125552679\n"
        "Hal,p:+12125552673 ext. 12\n",
    )
    spec = _spec(tmp_path, leads, suppress_files=(suppress,))
    summary = import_campaign(engine, _settings(database_url), spec, now=utcnow())
    assert summary.rows_read == 8
    assert summary.accepted == 2
    assert dict(summary.rejected) == {
        "missing": 1,
        "unparseable": 2,
        "invalid": 1,
        "duplicate": 1,
        "suppressed": 1,
    }
    rejects = _rejects(tmp_path)
    assert [(r["row"], r["reason"]) for r in rejects] == [
        ("2", "missing"),
        ("3", "unparseable"),
        ("4", "invalid"),
        ("5", "duplicate"),
        ("6", "unparseable"),
        ("7", "suppressed"),
    ]
    assert rejects[4]["value"].startswith("'=")  # formula neutralised in the rejects file
    assert _names(engine) == {"+12125552671": ("Ann", "Lee"), "+12125552673": ("Hal", "")}


def test_append_rejects_numbers_already_in_the_campaign(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    settings = _settings(database_url)
    first = _write(tmp_path / "a.csv", "phone\n2125552671\n")
    import_campaign(engine, settings, _spec(tmp_path, first), now=utcnow())
    second = _write(tmp_path / "b.csv", "phone,city\n2125552671,NYC\n2125552672,NYC\n")
    summary = import_campaign(engine, settings, _spec(tmp_path, second, append=True), now=utcnow())
    assert summary.accepted == 1 and dict(summary.rejected) == {"duplicate": 1}
    with pytest.raises(CampaignError, match="already exists"):
        import_campaign(engine, settings, _spec(tmp_path, second), now=utcnow())
    with session_scope(engine) as session:
        campaign = ledger_campaigns.get_campaign(session, name="spring")
        assert (campaign.rows_read, campaign.rows_accepted, campaign.rows_rejected) == (3, 2, 1)


@pytest.mark.parametrize(
    ("content", "options", "error", "message"),
    [
        ("", {}, CsvError, "empty"),
        ("name,email\nAnn,a@b.c\n", {}, CsvError, "phone column"),
        (
            "phone\n2125552671\n",
            {"templates": MessageTemplates(intro="Hi {first_name}", voicemail="x")},
            TemplateError,
            "first_name",
        ),
        (
            "phone\n2125552671\n",
            {"templates": MessageTemplates(intro="Hi")},
            TemplateError,
            "go together",
        ),
        ("phone\n2125552671\n", {"window": "25:00-26:00"}, InputError, "25:00"),
        ("phone\n2125552671\n", {"timezone": "Mars/Base"}, InputError, "Mars/Base"),
        ("phone\n2125552671\n", {"account": "nope"}, Exception, "nope"),
        ("First Name,Phone\r\n", {}, CsvError, "leads.csv has no data rows, only a header"),
        ("phone\n,\n,,\n", {}, CsvError, "no data rows"),
        ("phone\n2125552671\n", {"region": "UK"}, InputError, r"'UK' is not an ISO .*use GB$"),
        ("phone\n2125552671\n", {"region": "XX"}, InputError, "'XX' is not a country code"),
        ("phone\n2125552671\n", {"region": "USA"}, InputError, "'USA' is not a country code"),
    ],
)
def test_user_errors_write_nothing(
    engine: Engine,
    database_url: str,
    tmp_path: Path,
    content: str,
    options: dict[str, object],
    error: type[Exception],
    message: str,
) -> None:
    leads = _write(tmp_path / "leads.csv", content)
    with pytest.raises(error, match=message):
        import_campaign(
            engine, _settings(database_url), _spec(tmp_path, leads, **options), now=utcnow()
        )
    with session_scope(engine) as session:
        assert ledger_campaigns.list_campaigns(session) == []
    assert not (tmp_path / "rejects.csv").exists()


def test_a_provider_rule_is_enforced_at_import(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    huge = "x" * 30_000
    leads = _write(tmp_path / "leads.csv", f"phone,notes\n2125552671,short\n2125552672,{huge}\n")
    spec = _spec(tmp_path, leads, account="poly")
    summary = import_campaign(engine, _settings(database_url), spec, now=utcnow())
    assert summary.accepted == 1
    (reason,) = summary.rejected
    assert "polyai metadata" in reason


def test_export_has_the_contract_columns_and_neutralises_formulas(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    leads = _write(tmp_path / "leads.csv", "First Name,Phone,Comment\nAnn,2125552671,@SUM(1+1)\n")
    import_campaign(engine, _settings(database_url), _spec(tmp_path, leads), now=utcnow())
    out = tmp_path / "export.csv"
    assert export_to_file(engine, "spring", out) == 1
    with out.open(newline="", encoding="utf-8") as stream:
        (row,) = list(csv.DictReader(stream))
    assert list(row)[:6] == ["row", "phone", "status", "attempts", "provider_call_id", "error"]
    assert row["row"] == "1" and row["phone"] == "+12125552671" and row["status"] == "pending"
    assert row["first_name"] == "Ann"
    assert row["comment"] == "'@SUM(1+1)"


def test_a_country_column_may_say_uk_for_gb(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    leads = _write(tmp_path / "leads.csv", "phone,country\n020 7946 0958,UK\n020 7946 0959,gb\n")
    spec = _spec(tmp_path, leads, country_column="country")
    summary = import_campaign(engine, _settings(database_url), spec, now=utcnow())
    assert (summary.accepted, summary.rejected_total) == (2, 0)
    assert set(_names(engine)) == {"+442079460958", "+442079460959"}


HUBSPOT = (
    "\ufeffFirst Name,Phone Number,Mobile Phone Number\r\n"
    "Ann,(212) 555-2671,\r\n"
    "Bob,,(212) 555-2672\r\n"
    "Cy,2125552673,+1 212 555 2674\r\n"
    "Di,n/a,n/a\r\n"
)


def test_several_phone_columns_take_each_rows_first_valid_number(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    leads = _write(tmp_path / "hubspot.csv", HUBSPOT)
    summary = import_campaign(engine, _settings(database_url), _spec(tmp_path, leads), now=utcnow())
    assert (summary.accepted, dict(summary.rejected)) == (3, {"missing": 1})
    assert summary.phone_columns == {"Phone Number": 2, "Mobile Phone Number": 1}
    assert set(_names(engine)) == {"+12125552671", "+12125552672", "+12125552673"}
    out = tmp_path / "export.csv"
    export_to_file(engine, "spring", out)
    with out.open(newline="", encoding="utf-8") as stream:
        rows = {row["first_name"]: row for row in csv.DictReader(stream)}
    assert {name: row["alternate_phones"] for name, row in rows.items()} == {
        "Ann": "",
        "Bob": "",
        "Cy": "+12125552674",
    }
    assert rows["Bob"]["mobile_phone_number"] == "(212) 555-2672"


def test_phone_columns_given_in_order_of_preference(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    leads = _write(tmp_path / "hubspot.csv", HUBSPOT)
    spec = _spec(tmp_path, leads, phone_column=("Mobile Phone Number", "phone_number"))
    summary = import_campaign(engine, _settings(database_url), spec, now=utcnow())
    assert summary.phone_columns == {"Mobile Phone Number": 2, "Phone Number": 1}
    assert set(_names(engine)) == {"+12125552671", "+12125552672", "+12125552674"}
