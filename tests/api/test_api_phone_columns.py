"""Several phone columns over HTTP, as the CLI's repeated --phone-column: the form field
repeated or comma-separated, in order of preference, in POST /campaigns and in the preview."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import upload

# Row 1 has both numbers, row 2 only a mobile, row 3 only a landline, row 4 neither.
LEADS = (
    "First Name,Phone Number,Mobile Phone Number,Fax\n"
    "Ann,(212) 555-2671,(917) 555-0101,212-555-9999\n"
    "Bob,,(917) 555-0102,\n"
    "Cy,(212) 555-2673,,\n"
    "Di,,,\n"
)
FORM = {"account": "sandbox", "window": "00:00-24:00", "days": "all"}


def _export(client: TestClient, name: str) -> list[dict[str, str]]:
    text = client.get(f"/campaigns/{name}/export").text
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize(
    "given",
    [
        ["Mobile Phone Number", "Phone Number"],
        ["Mobile Phone Number,Phone Number"],
        [" Mobile Phone Number , Phone Number ", ""],
    ],
    ids=["repeated", "comma-separated", "spaces-and-blank"],
)
def test_upload_takes_several_phone_columns_in_order_of_preference(
    client: TestClient, given: list[str]
) -> None:
    status, body = upload(client, "spring", LEADS, phone_column=given)
    assert status == 201, body
    assert (body["accepted"], body["rejected_by_reason"]) == (3, {"missing": 1})
    assert body["phone_columns"] == {"Mobile Phone Number": 2, "Phone Number": 1}
    rows = {row["first_name"]: row for row in _export(client, "spring")}
    assert rows["Ann"]["phone"] == "+19175550101"  # the mobile first, as asked
    assert rows["Ann"]["alternate_phones"] == "+12125552671"
    assert (rows["Bob"]["phone"], rows["Cy"]["phone"]) == ("+19175550102", "+12125552673")


def test_one_phone_column_uses_only_it(client: TestClient) -> None:
    status, body = upload(client, "one", LEADS, phone_column="Phone Number")
    assert status == 201, body
    assert body["phone_columns"] == {"Phone Number": 2}
    assert body["rejected_by_reason"] == {"missing": 2}


def test_preview_takes_them_too(client: TestClient) -> None:
    response = client.post(
        "/campaigns/preview",
        files={"file": ("leads.csv", LEADS, "text/csv")},
        data={**FORM, "name": "spring", "phone_column": ["Mobile Phone Number", "Phone Number"]},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["phone_columns"] == {"Mobile Phone Number": 2, "Phone Number": 1}
    assert [c["phone"] for c in body["contacts"]] == [
        "+19175550101",
        "+19175550102",
        "+12125552673",
    ]
    assert body["estimate"].startswith("at 200/s")


def test_an_unknown_one_is_named_as_a_form_field(client: TestClient) -> None:
    status, body = upload(client, "spring", LEADS, phone_column="Phone Number,Cell")
    assert (status, body) == (
        422,
        {"error": body["error"]},
    )
    assert "no column 'Cell' in leads.csv" in str(body["error"])
    assert "--" not in str(body["error"])


def test_the_schema_documents_several(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    body = schema["paths"]["/campaigns"]["post"]["requestBody"]["content"]
    field = body["multipart/form-data"]["schema"]["properties"]["phone_column"]
    assert field["type"] == "array" and field["items"] == {"type": "string"}
    assert "repeat the field" in field["description"] and "commas" in field["description"]
