"""Recall rules and the claim order through ``POST /campaigns`` and ``GET /campaigns/{name}``:
the CLI's options as form fields, the same one-line errors, documented in the schema."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from dialer.ledger.engine import session_scope
from dialer.models import Campaign
from tests.api.conftest import upload


def _stored(engine: Engine) -> dict[str, tuple[object, object, int]]:
    with session_scope(engine) as session:
        return {
            c.name: (c.recall_rules, c.claim_order, c.max_attempts)
            for c in session.exec(select(Campaign))
        }


def test_recall_fields_repeated_or_in_one_field_and_the_order(
    client: TestClient, sqlite_engine: Engine
) -> None:
    assert (
        upload(client, "a", recall=["no-answer=1h,4h", "busy=15m"], order="recalls-first")[0] == 201
    )
    assert upload(client, "b", recall="no-answer=1h,4h; busy=15m")[0] == 201
    assert upload(client, "c", max_calls="3", retry_after="10m")[0] == 201
    rules = {"no-answer": [3600, 14400], "busy": [900]}
    assert _stored(sqlite_engine) == {
        "a": (rules, "recalls-first", 4),
        "b": (rules, "interleave", 4),
        "c": (None, "interleave", 3),
    }
    shown = client.get("/campaigns/a").json()
    assert (shown["recall_rules"], shown["order"]) == ("no-answer=1h,4h busy=15m", "recalls-first")
    assert (shown["recalls_waiting"], shown["next_due"]) == (0, None)
    # The flat shorthand, shown as the ladder it stands for.
    assert client.get("/campaigns/c").json()["recall_rules"] == "busy=10m,10m no-answer=10m,10m"


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"recall": "ringing=1h"}, "recall 'ringing=1h': unknown outcome 'ringing' (use no-answer"),
        ({"recall": "busy=soon"}, "recall 'busy=soon': invalid duration 'soon'"),
        ({"order": "random"}, "order 'random': use one of fresh-first, recalls-first"),
        (
            {"recall": "busy=1h", "max_calls": "3", "retry_after": "1h"},
            "retry_after goes with max_calls; with recall give each wait",
        ),
    ],
)
def test_bad_recall_options_are_one_line(
    client: TestClient, form: dict[str, str], message: str
) -> None:
    status, body = upload(client, **form)
    # The CLI's line, naming the form's fields.
    assert status == 422
    assert message in str(body["error"])
    assert client.get("/campaigns").json() == []


def test_the_schema_documents_recall_and_order(client: TestClient) -> None:
    body = client.get("/openapi.json").json()["paths"]["/campaigns"]["post"]["requestBody"]
    fields = body["content"]["multipart/form-data"]["schema"]["properties"]
    assert (
        fields["recall"]["type"] == "array"
        and "no-answer=1h,4h,1d" in fields["recall"]["description"]
    )
    assert fields["order"]["enum"] == ["fresh-first", "recalls-first", "interleave"]
    status = client.get("/openapi.json").json()["components"]["schemas"]["CampaignStatusReport"]
    assert {"recall_rules", "order", "recalls_waiting", "next_due"} <= set(status["properties"])
