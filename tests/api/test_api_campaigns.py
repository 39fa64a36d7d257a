"""``/campaigns`` through the HTTP API: the same import, lifecycle and export as the CLI, with
user errors as one JSON line."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from dialer.api.app import NO_DIALER, create_app
from dialer.ledger.engine import session_scope
from dialer.models import Campaign
from tests.api.conftest import API_KEY, LEADS, ServedApp, api_settings, upload

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def both(engine: Engine, database_url: str, tmp_path: Path) -> Iterator[TestClient]:
    """A client on SQLite and on Postgres (the ``engine`` fixture is parametrised)."""
    app = create_app(api_settings(database_url), engine, tmp_path / "files")
    with TestClient(app, headers={"X-API-Key": API_KEY}) as client:
        yield client


def test_upload_answers_the_summary_and_keeps_the_rejects(both: TestClient) -> None:
    status, body = upload(both)
    assert (status, body) == (
        201,
        {
            "campaign": "spring",
            "appended": False,
            "rows_read": 3,
            "accepted": 1,
            "rejected": 2,
            "rejected_by_reason": {"missing": 1, "duplicate": 1},
            "phone_columns": {"Phone": 1},
            "rejects_url": "/campaigns/spring/rejects",
        },
    )
    rejects = both.get("/campaigns/spring/rejects")
    assert rejects.headers["content-type"] == "text/csv; charset=utf-8"
    assert list(csv.reader(io.StringIO(rejects.text))) == [
        ["row", "value", "reason", "detail"],
        ["2", "n/a", "missing", "no phone number"],
        ["3", "2125552671", "duplicate", "same number as row 1"],
    ]
    report = both.get("/campaigns/spring").json()
    assert report["source_file"] == "leads.csv"
    assert (report["status"], report["total"], report["done"]) == ("draft", 1, 0)
    assert (report["rows_read"], report["rows_accepted"], report["rows_rejected"]) == (3, 1, 2)


def test_lifecycle_transitions_and_their_refusals(both: TestClient) -> None:
    upload(both)
    steps = [("start", "running"), ("pause", "paused"), ("resume", "running")]
    for action, expected in steps:
        response = both.post(f"/campaigns/spring/{action}")
        assert (response.status_code, response.json()["status"]) == (200, expected)
    cancelled = both.post("/campaigns/spring/cancel").json()
    assert cancelled["status"] == "cancelled"
    assert cancelled["contacts"]["cancelled"] == 1
    refused = both.post("/campaigns/spring/resume")
    assert (refused.status_code, refused.json()) == (
        409,
        {"error": "cannot resume campaign 'spring': it is cancelled"},
    )


def test_unknown_campaign_is_404_everywhere(client: TestClient) -> None:
    for method, path in [
        ("GET", "/campaigns/ghost"),
        ("POST", "/campaigns/ghost/start"),
        ("GET", "/campaigns/ghost/export"),
    ]:
        response = client.request(method, path)
        assert (response.status_code, response.json()) == (
            404,
            {"error": "no campaign named 'ghost'"},
        ), path
    rejects = client.get("/campaigns/ghost/rejects")
    assert rejects.status_code == 404
    assert rejects.json() == {"error": "no rejects file of campaign 'ghost' on this server"}


@pytest.mark.parametrize(
    ("content", "status", "message"),
    [
        (b"", 422, "leads.csv is empty"),
        (bytes(range(256)) * 40, 422, "leads.csv is not a CSV file (it holds binary data)"),
        (
            b"name,email\nAnn,a@b.c\n",
            422,
            "no phone column in leads.csv; columns are: name, email; use phone_column",
        ),
    ],
)
def test_a_bad_file_gets_the_clis_line_and_writes_nothing(
    client: TestClient, content: bytes, status: int, message: str
) -> None:
    assert upload(client, content=content) == (status, {"error": message})
    assert client.get("/campaigns").json() == []


@pytest.mark.parametrize(
    ("form", "status", "message"),
    [
        ({"account": "ghost"}, 400, "no account named 'ghost' (configured: sandbox)"),
        ({"var": ["nokey"]}, 422, "var 'nokey' is not KEY=VALUE"),
        ({"intro": "Hi"}, 422, "intro and voicemail go together: give both or neither"),
        ({"max_calls": "0"}, 422, "form field max_calls: Input should be greater"),
        ({"max_calls": "1", "retry_after": "1h"}, 422, "retry_after needs max_calls of 2"),
        ({"intro": "Hi {nam}", "voicemail": "v"}, 422, "{nam}"),
        ({"window": "25:00-26:00"}, 422, "25:00-26:00"),
        ({"max_attempts": "0"}, 422, "form field max_attempts: Input should be greater"),
        ({"name": "a/b"}, 422, "form field name: campaign name cannot contain '/'"),
        ({"colour": "red"}, 422, "form field colour: Extra inputs are not permitted"),
        ({"phone_column": "tel"}, 422, "no column 'tel' in leads.csv"),
    ],
)
def test_bad_options_are_one_line(
    client: TestClient, form: dict[str, str | list[str]], status: int, message: str
) -> None:
    got_status, body = upload(client, **form)
    assert got_status == status
    assert list(body) == ["error"]
    error = str(body["error"])
    assert message in error and "\n" not in error
    assert "--" not in error
    assert client.get("/campaigns").json() == []


def test_malformed_requests_are_400(client: TestClient) -> None:
    fields_only = [("name", (None, "x")), ("account", (None, "sandbox"))]
    no_file = client.post("/campaigns", files=fields_only)
    assert no_file.json() == {"error": "no file: send the CSV in the form field 'file'"}
    as_json = client.post("/campaigns", json={"name": "x"})
    assert as_json.json() == {"error": "send the file as multipart/form-data"}
    two_files = client.post(
        "/campaigns",
        files=[("file", ("a.csv", LEADS)), ("file", ("b.csv", LEADS))],
        data={"name": "x", "account": "sandbox"},
    )
    assert two_files.json() == {"error": "send exactly one file, in the form field 'file'"}
    assert {no_file.status_code, as_json.status_code, two_files.status_code} == {400}


def test_name_taken_is_409_and_append_adds_to_it(client: TestClient) -> None:
    assert upload(client)[0] == 201
    status, body = upload(client)
    assert (status, body) == (
        409,
        {"error": "campaign 'spring' already exists (use append=true to add leads to it)"},
    )
    more = "Phone\n+12125552672\n+12125552671\n"
    status, body = upload(client, content=more, filename="more.csv", append="true")
    assert status == 201
    assert (body["appended"], body["accepted"], body["rejected_by_reason"]) == (
        True,
        1,
        {"duplicate": 1},
    )
    assert client.get("/campaigns/spring/rejects").text.splitlines() == [
        "row,value,reason,detail",
        "2,+12125552671,duplicate,number already in the campaign",
    ]
    assert client.get("/campaigns/spring").json()["source_file"] == "leads.csv, more.csv"


def test_list_shows_every_campaign_with_progress(client: TestClient) -> None:
    upload(client, "a")
    upload(client, "b")
    client.post("/campaigns/b/cancel")
    listed = client.get("/campaigns").json()
    assert [(c["name"], c["status"], c["total"], c["done"]) for c in listed] == [
        ("a", "draft", 1, 0),
        ("b", "cancelled", 1, 1),
    ]


def test_export_streams_every_contact_formula_safe(client: TestClient) -> None:
    rows = ["Phone,Note", *(f"+1212555{i:04d},=HYPERLINK(x{i})" for i in range(2500))]
    assert upload(client, content="\n".join(rows) + "\n")[0] == 201
    with client.stream("GET", "/campaigns/spring/export") as response:
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        assert "spring-export.csv" in response.headers["content-disposition"]
        chunks = list(response.iter_text())
    assert len(chunks) >= 3  # streamed a thousand rows at a time, not built whole
    exported = list(csv.DictReader(io.StringIO("".join(chunks))))
    assert len(exported) == 2500
    assert exported[0]["phone"] == "+12125550000"
    assert exported[0]["note"] == "'=HYPERLINK(x0)"
    assert {row["status"] for row in exported} == {"pending"}


def test_a_server_with_no_dialer_says_so(client: TestClient) -> None:
    assert upload(client)[0] == 201
    started = client.post("/campaigns/spring/start").json()
    assert (started["status"], started["dialing"]) == ("running", NO_DIALER)
    assert client.get("/campaigns/spring").json()["dialing"] == NO_DIALER


def test_max_calls_and_its_deprecated_name(client: TestClient, sqlite_engine: Engine) -> None:
    assert upload(client, "a", max_calls="3")[0] == 201
    assert upload(client, "b", max_attempts="4")[0] == 201
    with session_scope(sqlite_engine) as session:
        budgets = {c.name: c.max_attempts for c in session.exec(select(Campaign))}
    assert budgets == {"a": 3, "b": 4}


def test_export_keeps_lead_columns_named_like_its_own_and_speaks_excel(
    client: TestClient,
) -> None:
    leads = "Phone,State,Status,Ville\n(212) 555-2671,NY,hot,Montréal\n"
    assert upload(client, content=leads)[0] == 201
    plain = client.get("/campaigns/spring/export")
    (row,) = list(csv.DictReader(io.StringIO(plain.text)))
    assert (row["state"], row["status"]) == ("pending", "pending")
    assert (row["lead_phone"], row["lead_state"], row["lead_status"], row["ville"]) == (
        "(212) 555-2671",
        "NY",
        "hot",
        "Montréal",
    )
    assert plain.content.startswith(b"row,phone,")
    excel = client.get("/campaigns/spring/export", params={"excel": "1"})
    assert excel.content == b"\xef\xbb\xbf" + plain.content


def test_accounts_are_names_and_kinds_never_credentials(
    sqlite_url: str, sqlite_engine: Engine, tmp_path: Path
) -> None:
    secret = "sk-live-do-not-leak-123"
    settings = api_settings(sqlite_url)
    libby = {"name": "gym", "provider": "libby", "api_key": secret, "agent_id": "a1"}
    settings = settings.model_validate(
        settings.model_dump() | {"accounts": {**settings.model_dump()["accounts"], "gym": libby}}
    )
    app = create_app(settings, sqlite_engine, tmp_path)
    with TestClient(app, headers={"X-API-Key": API_KEY}) as client:
        response = client.get("/accounts")
    every = ["intro", "voicemail", "instructions", "intro_notes", "questions", "rules"]
    assert response.json() == [
        {"name": "gym", "provider": "libby", "messages": ["intro", "voicemail", "instructions"]},
        {"name": "sandbox", "provider": "sandbox", "messages": every},
    ]
    assert secret not in response.text


def test_database_down_is_503_in_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'missing-dir' / 'ledger.db'}"
    app = create_app(api_settings(url), files_dir=tmp_path / "files")
    with TestClient(app, headers={"X-API-Key": API_KEY}) as client:
        response = client.get("/campaigns")
    assert response.status_code == 503
    assert response.json() == {"error": "database unreachable; try again later"}


def test_upload_past_the_limit_is_413_and_leaves_nothing(
    sqlite_url: str, sqlite_engine: Engine, tmp_path: Path
) -> None:
    files = tmp_path / "files"
    app = create_app(api_settings(sqlite_url, max_upload_mb=1), sqlite_engine, files)
    big = "Phone\n" + "+12125552671\n" * 200_000  # 2.6 MB: past the limit and its slack
    boundary = "b0undary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\nbig\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="account"\r\n\r\nsandbox\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
        f"Content-Type: text/csv\r\n\r\n{big}\r\n--{boundary}--\r\n"
    ).encode()

    def chunked() -> Iterator[bytes]:
        """No Content-Length: the limit must hold while the body streams in."""
        for start in range(0, len(body), 64 << 10):
            yield body[start : start + (64 << 10)]

    headers = {"X-API-Key": API_KEY, "Content-Type": f"multipart/form-data; boundary={boundary}"}
    with ServedApp(app) as served, httpx.Client(base_url=served.url, headers=headers) as client:
        streamed = client.post("/campaigns", content=chunked(), timeout=30)
        declared = client.post("/campaigns", content=body, timeout=30)
        listed = client.get("/campaigns").json()
    assert (streamed.status_code, streamed.json()) == (
        413,
        {"error": "the file is larger than 1 MB"},
    )
    assert (declared.status_code, declared.json()) == (
        413,
        {"error": "the upload is larger than 1 MB"},
    )
    assert listed == []
    assert list((files / "uploads").iterdir()) == []


def test_large_upload_over_a_real_socket(
    sqlite_url: str, sqlite_engine: Engine, tmp_path: Path
) -> None:
    """uvicorn in front, as ``dialer serve`` runs it: the import still answers 201."""
    app = create_app(api_settings(sqlite_url), sqlite_engine, tmp_path / "files")
    leads = "Phone\n" + "".join(f"+1212555{i:04d}\n" for i in range(5000))
    with ServedApp(app) as served:
        response = httpx.post(
            f"{served.url}/campaigns",
            headers={"X-API-Key": API_KEY},
            files={"file": ("leads.csv", leads.encode())},
            data={"name": "wire", "account": "sandbox"},
            timeout=30,
        )
    assert (response.status_code, response.json()["accepted"]) == (201, 5000)
