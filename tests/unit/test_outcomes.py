"""The outcome vocabulary: each provider's words, the webhook readers, the callback URL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from dialer.callbacks import callback_url
from dialer.outcomes import MalformedOutcome, Outcome, normalize, outcome_of, recall_delay
from dialer.providers import PROVIDERS, AllomiaProvider, TrilletProvider
from dialer.providers.allomia import STATUSES as ALLOMIA
from dialer.providers.base import ATTEMPT_FIELD, ProviderOutcome
from dialer.providers.polyai import STATUSES as POLYAI
from dialer.providers.status import status_url
from dialer.providers.trillet import EVENTS as TRILLET_EVENTS
from dialer.providers.trillet import STATUSES as TRILLET_STATUSES
from dialer.settings import AccountConfig, Settings

C, NA, B, F, VM = (
    Outcome.COMPLETED,
    Outcome.NO_ANSWER,
    Outcome.BUSY,
    Outcome.FAILED,
    Outcome.VOICEMAIL,
)


@pytest.mark.parametrize(
    ("table", "status", "expected"),
    [
        (ALLOMIA, "completed", C),
        (ALLOMIA, "failed", F),
        (ALLOMIA, "busy", B),
        (ALLOMIA, "no-answer", NA),
        (ALLOMIA, "No_Answer", NA),
        (ALLOMIA, "calling", None),
        (POLYAI, "success", C),
        (POLYAI, "failure", F),
        (POLYAI, "queued", None),
        (POLYAI, "calling", None),
        (TRILLET_STATUSES, "completed", C),
        (TRILLET_STATUSES, "no_answer", NA),
        (TRILLET_STATUSES, "Voicemail", VM),
        (TRILLET_STATUSES, "busy", B),
        (TRILLET_STATUSES, "in progress", None),
        (TRILLET_EVENTS, "call.completed", C),
        (TRILLET_EVENTS, "call.failed", F),
        (TRILLET_EVENTS, "call.started", None),
    ],
)
def test_each_provider_word_maps_to_one_outcome_or_not_final(
    table: dict[str, Outcome | None], status: str, expected: Outcome | None
) -> None:
    assert outcome_of(status, table, provider="p") == expected


def test_every_table_speaks_only_the_vocabulary() -> None:
    for table in (ALLOMIA, POLYAI, TRILLET_STATUSES, TRILLET_EVENTS):
        assert set(table.values()) <= {*Outcome, None}
        assert all(word == normalize(word) or word.startswith("call.") for word in table)
    assert {str(o) for o in Outcome} == {"completed", "no-answer", "busy", "failed", "voicemail"}


@pytest.mark.parametrize("status", ["answered-ish", "", None, 3, ["completed"]])
def test_a_word_the_table_does_not_know_is_malformed(status: object) -> None:
    with pytest.raises(MalformedOutcome):
        outcome_of(status, ALLOMIA, provider="allomia")


def test_recall_delay_defaults_to_an_hour() -> None:
    assert recall_delay(None) == timedelta(hours=1)
    assert recall_delay(90) == timedelta(seconds=90)


def test_allomia_webhook_reads_terminal_states_and_ignores_others() -> None:
    body = {"outboundCallId": "c-1", "contactId": "x", "status": "busy", "endedAt": "..."}
    assert AllomiaProvider.outcome_from_webhook(body) == ProviderOutcome(
        outcome=B, payload=body, provider_call_id="c-1"
    )
    assert AllomiaProvider.outcome_from_webhook({**body, "status": "calling"}) is None
    with pytest.raises(MalformedOutcome):
        AllomiaProvider.outcome_from_webhook({"status": "busy"})
    with pytest.raises(MalformedOutcome):
        AllomiaProvider.outcome_from_webhook({**body, "status": "exploded"})


@pytest.mark.parametrize(
    ("body", "outcome", "call_id", "key"),
    [
        ({"event": "call.completed", "data": {"callId": "t", "status": "completed"}}, C, "t", None),
        ({"event": "call.failed", "data": {"call_id": "t1"}}, F, "t1", None),
        ({"event": "call.ended", "data": {"callId": "t", "status": "voicemail"}}, VM, "t", None),
        ({"event": "call.failed", "call_id": "t1", "status": "no_answer"}, NA, "t1", None),
        ({"status": "busy", "metadata": {ATTEMPT_FIELD: "k-1"}}, B, None, "k-1"),
        (
            {"event": "call.completed", "data": {"callId": 77, "metadata": {ATTEMPT_FIELD: "k"}}},
            C,
            "77",
            "k",
        ),
    ],
)
def test_trillet_webhook_reads_the_envelope_leniently(
    body: dict[str, Any], outcome: Outcome, call_id: str | None, key: str | None
) -> None:
    found = TrilletProvider.outcome_from_webhook(body)
    assert found == ProviderOutcome(
        outcome=outcome, payload=body, provider_call_id=call_id, attempt_key=key
    )


@pytest.mark.parametrize(
    "body",
    [
        {"event": "call.started", "data": {"callId": "t1"}},
        {"event": "sms.delivered", "data": {"status": "delivered"}},
        {"event": "call.transcript", "data": {"callId": "t1"}},
        {"event": "call.completed", "data": {"callId": "t1", "status": "ringing"}},
    ],
)
def test_trillet_events_that_are_no_final_outcome_are_ignored(body: dict[str, Any]) -> None:
    assert TrilletProvider.outcome_from_webhook(body) is None


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"data": {"callId": "t1"}},
        {"event": "call.completed", "data": {}},
        {"event": "call.completed", "data": {"callId": "t1", "status": "weird"}},
        {"event": "call.completed", "data": {"callId": True}},
    ],
)
def test_trillet_events_naming_no_call_or_an_unknown_status_are_malformed(
    body: dict[str, Any],
) -> None:
    with pytest.raises(MalformedOutcome):
        TrilletProvider.outcome_from_webhook(body)


def test_providers_without_webhooks_read_nothing_and_only_some_poll() -> None:
    assert PROVIDERS["libby"].outcome_from_webhook({"status": "completed"}) is None
    windows = {kind: adapter.capabilities.poll_window for kind, adapter in PROVIDERS.items()}
    assert windows == {
        "libby": None,
        "libby-legacy": None,
        "allomia": timedelta(hours=24),
        "trillet": None,
        "polyai": timedelta(hours=2),
        "sandbox": timedelta(hours=2),
    }


def test_status_url_keeps_the_call_id_one_path_segment() -> None:
    assert (
        status_url("https://h/api/outbound", "a/../b?c") == "https://h/api/outbound/a%2F..%2Fb%3Fc"
    )


def _account(provider: str, **fields: Any) -> AccountConfig:
    required: dict[str, dict[str, str]] = {
        "allomia": {"api_key": "k", "assistant_id": "a", "phone_number_id": "p"},
        "trillet": {"workspace_id": "w", "agent_id": "a"},
        "polyai": {"token": "t"},
    }
    return AccountConfig.model_validate(
        {"name": provider, "provider": provider, **required[provider], **fields}
    )


def test_callback_url_carries_provider_and_token_unless_the_account_sets_its_own() -> None:
    settings = Settings(public_url="https://dialer.example.com/")
    token = "T" * 32
    assert (
        callback_url(settings, _account("allomia"), token)
        == f"https://dialer.example.com/webhooks/allomia/{token}"
    )
    assert callback_url(settings, _account("trillet"), token) == (
        f"https://dialer.example.com/webhooks/trillet/{token}"
    )
    own = _account("allomia", callback_url="https://crm.example.com/hook")
    assert callback_url(settings, own, token) is None
    assert callback_url(settings, _account("polyai"), token) is None
    assert callback_url(settings, _account("allomia"), "") is None
