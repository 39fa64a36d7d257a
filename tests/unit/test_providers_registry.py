"""Every registered provider is complete: the recipe in docs/providers.md, kept true.

A provider is one module plus one line in ``dialer.providers.PROVIDERS`` (and its sandbox
API). This walks the registry and checks each provider has everything the rest of the dialer
reads from it, consistently: an account model in the settings' union, capabilities that its
status words and methods agree with, a sandbox route, its API document, and its place in
the README.
"""

from __future__ import annotations

import json
import os
import re
import typing
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from dialer.outcomes import Outcome, StatusTable, normalize
from dialer.providers import PROVIDERS, AnyAccount, CallRequest, Messages, build_provider
from dialer.providers.account import AccountConfig, WebhookAccount
from dialer.providers.base import MESSAGE_OPTIONS, Capabilities
from dialer.providers.http import HttpProvider
from dialer.sandbox.apis import ROUTES
from dialer.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = Path(os.environ.get("DIALER_PROVIDER_DOCS", "/work/shared/providers"))
KINDS = sorted(PROVIDERS)


def required_fields(kind: str) -> dict[str, str]:
    """Every field ``kind``'s accounts must set, each with a value of its own."""
    model = PROVIDERS[kind].account_model
    fields = model.model_fields.items()
    return {name: f"value-of-{name}" for name, field in fields if field.is_required()}


def some_account(kind: str) -> AccountConfig:
    return AccountConfig.model_validate({"name": kind, "provider": kind, **required_fields(kind)})


def answering(body: dict[str, str]) -> httpx.MockTransport:
    """A provider that accepts every call with ``body`` (and issues any token asked for)."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/oauth2/token"):
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        return httpx.Response(200, json=body)

    return httpx.MockTransport(handler)


def overrides(adapter: type[HttpProvider[Any]], method: str) -> bool:
    return getattr(adapter, method) is not getattr(HttpProvider, method)


@pytest.mark.parametrize("kind", KINDS)
def test_the_account_model_is_the_providers_member_of_the_settings_union(kind: str) -> None:
    adapter = PROVIDERS[kind]
    model = adapter.account_model
    assert adapter.kind == kind == model.kind()
    members = typing.get_args(typing.get_args(AnyAccount)[0])
    assert model in members
    assert issubclass(model, AccountConfig)
    assert type(some_account(kind)) is model
    block = {"provider": kind, **required_fields(kind)}
    settings = Settings.model_validate({"accounts": {"a": block}})
    assert type(settings.accounts["a"]) is model


def test_the_union_has_no_model_the_registry_lacks() -> None:
    members = typing.get_args(typing.get_args(AnyAccount)[0])
    assert {member.kind() for member in members} == set(KINDS)
    assert len(members) == len(KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_capabilities_are_data_the_methods_and_words_agree_with(kind: str) -> None:
    adapter = PROVIDERS[kind]
    capabilities = adapter.capabilities
    assert isinstance(capabilities, Capabilities)
    assert capabilities.messages <= set(MESSAGE_OPTIONS)
    # Pollable: it has a poll window, status words to read, and a poll that reads them.
    assert capabilities.pollable == bool(adapter.poll_statuses) == overrides(adapter, "poll")
    # Webhooks: it takes a callback URL, has words to read, a reader, and the account field.
    webhooks = capabilities.takes_callback_url
    assert webhooks == bool(adapter.webhook_statuses)
    assert webhooks == overrides(adapter, "outcome_from_webhook")
    assert webhooks == issubclass(adapter.account_model, WebhookAccount)


@pytest.mark.parametrize("kind", KINDS)
def test_status_words_are_normalized_and_reach_a_final_outcome(kind: str) -> None:
    adapter = PROVIDERS[kind]
    tables: list[StatusTable] = [adapter.webhook_statuses, adapter.poll_statuses]
    for table in (t for t in tables if t):
        assert all(normalize(word) == word for word in table)
        assert all(outcome is None or isinstance(outcome, Outcome) for outcome in table.values())
        assert {Outcome.COMPLETED, Outcome.FAILED} <= set(table.values())
        assert None in table.values()  # a call in progress is a word too, not a malformed one


@pytest.mark.parametrize("kind", KINDS)
def test_a_call_id_is_read_exactly_where_the_capabilities_say(kind: str) -> None:
    adapter = PROVIDERS[kind]
    fields = adapter.capabilities.call_id_fields
    every_spelling = {"callId": "a", "call_id": "a", "outboundCallId": "a", "call_sid": "a"}
    assert set(fields) <= set(every_spelling)
    request = CallRequest(attempt_key="k", campaign="c", phone="+15551234567")
    for field in fields:
        with httpx.Client(transport=answering({field: "id-1"})) as client:
            assert build_provider(some_account(kind), client).place(request).provider_call_id == (
                "id-1"
            )
    with httpx.Client(transport=answering(every_spelling)) as client:
        found = build_provider(some_account(kind), client).place(request).provider_call_id
    assert (found is not None) == adapter.capabilities.returns_call_id


@pytest.mark.parametrize("kind", KINDS)
def test_messages_it_has_no_field_for_are_refused(kind: str) -> None:
    adapter = PROVIDERS[kind]
    with httpx.Client() as client:
        provider = build_provider(some_account(kind), client)
    for name in set(MESSAGE_OPTIONS) - adapter.capabilities.messages:
        value: Any = ("q",) if name in ("questions", "rules") else "text"
        request = CallRequest(
            attempt_key="k",
            campaign="c",
            phone="+15551234567",
            first_name="Ann",
            messages=Messages(**{name: value}),
        )
        assert provider.check(request) == f"{kind} has no field for {MESSAGE_OPTIONS[name]}"


@pytest.mark.parametrize("kind", KINDS)
def test_credentials_are_secrets_masked_everywhere_the_account_is_printed(kind: str) -> None:
    account = some_account(kind)
    secrets = [value.get_secret_value() for _, value in account if isinstance(value, SecretStr)]
    assert bool(secrets) == (kind != "sandbox")
    with httpx.Client() as client:
        provider = build_provider(account, client)
    assert isinstance(provider, HttpProvider)
    assert set(provider.secrets()) == set(secrets)  # masked out of whatever it answers
    for text in (repr(account), str(account), account.model_dump_json(), repr(provider)):
        assert not [secret for secret in secrets if secret in text]


@pytest.mark.parametrize("kind", KINDS)
def test_the_sandbox_speaks_its_api(kind: str) -> None:
    adapter = PROVIDERS[kind]
    routes = {(route.method, route.template) for route in ROUTES if route.kind == kind}
    assert ("POST", adapter.path) in routes
    polls = {template for method, template in routes if method == "GET"}
    assert bool(polls) == adapter.capabilities.pollable
    assert all(template.startswith(adapter.path + "/{") for template in polls)


@pytest.mark.parametrize("kind", KINDS)
def test_bad_number_errors_are_declared_recognised_and_spoken_by_the_sandbox(kind: str) -> None:
    adapter = PROVIDERS[kind]
    declared = adapter.capabilities.bad_numbers
    assert overrides(adapter, "number_refused") == bool(declared)
    (placing,) = [r for r in ROUTES if r.kind == kind and r.template == adapter.path]
    assert (placing.invalid_number is not None) == bool(declared)
    if placing.invalid_number is not None:
        answer = placing.invalid_number()
        assert {error.status for error in declared} == {answer.status}
        assert adapter.number_refused(answer.status, json.loads(answer.body))
    # Never a 2xx, a retryable or an account answer, nor an error that is about something else.
    for status in (200, 401, 403, 429, 500):
        assert not adapter.number_refused(status, {"error": "to_number", "code": "invalid_number"})
    assert not adapter.number_refused(400, {"error": "metadata.x must be a string"})
    assert not adapter.number_refused(400, None)
    if DOCUMENTS.is_dir() and adapter.document:
        text = (DOCUMENTS / adapter.document).read_text(encoding="utf-8")
        for error in declared:
            assert error.words in text  # verbatim from its own document


def test_every_provider_document_is_a_registered_provider_and_names_its_path() -> None:
    if not DOCUMENTS.is_dir():
        pytest.skip(f"no provider documents at {DOCUMENTS} (set DIALER_PROVIDER_DOCS)")
    documented = {adapter.document: adapter for adapter in PROVIDERS.values() if adapter.document}
    assert set(documented) == {path.name for path in DOCUMENTS.glob("*.txt")}
    for name, adapter in documented.items():
        assert adapter.path in (DOCUMENTS / name).read_text(encoding="utf-8")
    assert [kind for kind, adapter in PROVIDERS.items() if adapter.document is None] == ["sandbox"]


def test_the_readme_lists_every_provider_and_its_fields() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (sentence,) = re.findall(r"^Providers: (.+?)\s+—", readme, re.MULTILINE)
    assert re.findall(r"[\w-]+", sentence.replace(", and", ",")) == list(PROVIDERS)
    (comment,) = re.findall(r'^provider = "[^"]+"\s+#\s*(.+)$', readme, re.MULTILINE)
    assert [kind.strip() for kind in comment.split("|")] == list(PROVIDERS)
    (paragraph,) = re.findall(r"^Provider fields: (.+?)\.$", readme, re.MULTILINE | re.DOTALL)
    listed = {
        part.split()[0]: set(re.findall(r"`(\w+)`", part))
        for part in " ".join(paragraph.split()).split("; ")
    }
    owning = {kind: set(a.account_model.own_fields()) for kind, a in PROVIDERS.items()}
    assert listed == {kind: fields for kind, fields in owning.items() if fields}


def test_the_recipe_names_files_that_exist() -> None:
    recipe = (ROOT / "docs" / "providers.md").read_text(encoding="utf-8")
    paths = set(re.findall(r"`((?:dialer|tests|docs)/[\w/.<>-]+)`", recipe))
    assert paths
    for path in paths:
        if "<" not in path:
            assert (ROOT / path).exists(), path


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
