"""``POST /campaigns/preview`` as the console uses it: a messy file, the finish estimate, the
server's do-not-call list, the import's one-line errors; nothing created."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from dialer.ledger import contacts as ledger_contacts
from dialer.ledger.engine import session_scope
from tests.api.conftest import upload
from tests.api.test_api_activity import MESSY


def test_preview_says_what_create_would_do_and_creates_nothing(client: TestClient) -> None:
    form = {"name": "spring", "account": "sandbox", "intro": "Hi {first_name}", "voicemail": "Bye"}
    response = client.post(
        "/campaigns/preview", files={"file": ("leads.csv", MESSY, "text/csv")}, data=form
    )
    assert response.status_code == 200, response.text
    preview = response.json()
    assert (preview["rows_read"], preview["accepted"], preview["rejected"]) == (5, 3, 2)
    assert preview["rejected_by_reason"] == {"missing": 1, "duplicate": 1}
    assert preview["phone_columns"] == {"Mobile Phone": 3}
    assert [
        (c["row"], c["phone"], c["extension"], c["timezones"]) for c in preview["contacts"]
    ] == [
        (1, "+12125552671", None, ["America/New_York"]),
        (4, "+442079460958", None, ["Europe/London"]),
        (5, "+12125552672", "7", ["America/New_York"]),
    ]
    assert preview["contacts"][0]["variables"]["first_name"] == "Ann"
    assert "3 contacts need" in preview["estimate"]
    assert client.get("/campaigns").json() == []

    status, created = upload(client, content=MESSY, window="09:00-20:00", days="mon-sat")
    assert (status, created["accepted"], created["rejected_by_reason"]) == (
        201,
        3,
        {"missing": 1, "duplicate": 1},
    )
    taken = client.post(
        "/campaigns/preview", files={"file": ("leads.csv", MESSY, "text/csv")}, data=form
    )
    assert (taken.status_code, taken.json()) == (
        409,
        {"error": "campaign 'spring' already exists (use append=true to add leads to it)"},
    )


def test_preview_honours_the_servers_do_not_call_list(
    client: TestClient, sqlite_engine: Engine
) -> None:
    with session_scope(sqlite_engine) as session:
        ledger_contacts.add_suppressions(
            session, phones=["+442079460958"], source="dnc.csv", now=datetime.now(UTC)
        )
    response = client.post(
        "/campaigns/preview",
        files={"file": ("leads.csv", MESSY, "text/csv")},
        data={"name": "spring", "account": "sandbox"},
    )
    assert response.json()["rejected_by_reason"] == {"missing": 1, "duplicate": 1, "suppressed": 1}


def test_preview_errors_are_the_imports_one_line(client: TestClient) -> None:
    response = client.post(
        "/campaigns/preview",
        files={"file": ("leads.csv", "name,email\nAnn,a@b.c\n", "text/csv")},
        data={"name": "spring", "account": "sandbox"},
    )
    assert response.status_code == 422
    assert response.json()["error"].startswith("no phone column in leads.csv")
