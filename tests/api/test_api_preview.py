"""POST /campaigns/preview: the import's report and first contacts, nothing written."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.conftest import LEADS, upload

FORM = {"name": "spring", "account": "sandbox", "window": "00:00-24:00", "days": "all"}


def _preview(
    client: TestClient, content: str = LEADS, query: str = "", **form: str
) -> tuple[int, dict[str, object]]:
    response = client.post(
        f"/campaigns/preview{query}",
        files={"file": ("leads.csv", content, "text/csv")},
        data={**FORM, **form},
    )
    return response.status_code, response.json()


def test_preview_reports_the_import_and_writes_nothing(client: TestClient) -> None:
    status, body = _preview(client)
    assert str(body.pop("estimate")).startswith("at 200/s inside 00:00-24:00 daily, 1 contacts")
    assert (status, body) == (
        200,
        {
            "campaign": "spring",
            "appended": False,
            "rows_read": 3,
            "accepted": 1,
            "rejected": 2,
            "rejected_by_reason": {"missing": 1, "duplicate": 1},
            "phone_columns": {"Phone": 1},
            "contacts": [
                {
                    "row": 1,
                    "phone": "+12125552671",
                    "extension": None,
                    "timezones": ["America/New_York"],
                    "number_type": "fixed_line_or_mobile",
                    "variables": {"first_name": "Ann", "phone": "(212) 555-2671", "city": "NYC"},
                }
            ],
        },
    )
    assert client.get("/campaigns").json() == []
    assert client.get("/campaigns/spring/rejects").status_code == 404
    assert upload(client)[0] == 201


def test_preview_answers_as_the_import_would(client: TestClient) -> None:
    assert upload(client)[0] == 201
    taken = _preview(client)
    assert taken == (
        409,
        {"error": "campaign 'spring' already exists (use append=true to add leads to it)"},
    )
    status, body = _preview(client, "Phone\n+12125552672\n(212) 555-2671\n", append="true")
    assert status == 200
    assert (body["accepted"], body["rejected_by_reason"]) == (1, {"duplicate": 1})
    assert _preview(client, "Phone,Name\n", name="other") == (
        422,
        {"error": "leads.csv has no data rows, only a header"},
    )
    assert _preview(client, region="UK", name="other")[1] == {
        "error": "region 'UK' is not an ISO country code: use GB"
    }


def test_preview_sample_size(client: TestClient) -> None:
    rows = "".join(f"212555{n:04d}\n" for n in range(2671, 2691))
    status, body = _preview(client, "Phone\n" + rows, query="?sample=3")
    assert status == 200
    contacts = body["contacts"]
    assert isinstance(contacts, list)
    assert [c["row"] for c in contacts] == [1, 2, 3]
    assert _preview(client, "Phone\n" + rows, query="?sample=0")[1]["contacts"] == []
    assert _preview(client, "Phone\n" + rows, query="?sample=1000")[0] == 422
