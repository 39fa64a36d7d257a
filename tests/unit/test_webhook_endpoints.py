"""``[[webhooks]]`` settings, URL masking, signatures (checked with ``standardwebhooks``, not
with our code) and the payload schema published in docs/."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from dialer.errors import ConfigError
from dialer.ledger.engine import utcnow
from dialer.settings import Settings, load_settings
from dialer.webhooks.endpoints import WebhookEndpoint, masked_url
from dialer.webhooks.payloads import payload_schema, ping_body
from dialer.webhooks.signing import signed_headers
from tests.webhook_receiver import SECRET

SCHEMA_FILE = Path(__file__).parents[2] / "docs" / "webhook-payload.schema.json"


def test_the_issue_s_example_block_loads(tmp_path: Path) -> None:
    config = tmp_path / "dialer.toml"
    config.write_text(
        "[[webhooks]]\n"
        'url = "https://crm.example.com/dialer-events"\n'
        'secret = "${DIALER_WEBHOOK_SECRET}"\n'
        'events = ["call.placed", "call.outcome", "call.failed", "call.unknown",'
        ' "campaign.completed", "campaign.paused"]\n'
        "include_lead = true\n",
        encoding="utf-8",
    )
    settings = load_settings(config, env={"DIALER_WEBHOOK_SECRET": SECRET})
    (hook,) = settings.webhooks
    assert (hook.name, hook.include_lead, len(hook.events)) == ("crm.example.com", True, 6)
    assert hook.secret.get_secret_value() == SECRET


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ({"url": "ftp://x", "secret": SECRET}, "not an http(s) URL"),
        ({"url": "https://x.io", "secret": "s3cret-but-not-whsec"}, "starts with whsec_"),
        ({"url": "https://x.io", "secret": "whsec_!!notbase64"}, "base64"),
        ({"url": "https://x.io", "secret": "whsec_c2hvcnQ="}, "at least 24 bytes"),
        ({"url": "https://x.io", "secret": SECRET, "events": ["call.maybe"]}, "events"),
        ({"url": "https://x.io", "secret": SECRET, "events": []}, "at least one event"),
    ],
)
def test_a_bad_block_is_one_line_naming_the_problem(
    block: dict[str, object], message: str, tmp_path: Path
) -> None:
    config = tmp_path / "dialer.toml"
    lines = [f"{key} = {json.dumps(value)}" for key, value in block.items()]
    config.write_text("[[webhooks]]\n" + "\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_settings(config, env={})
    line = str(raised.value)
    assert message in line and "\n" not in line
    assert str(block["secret"]) not in line  # never the secret, even a malformed one


def test_two_endpoints_need_distinct_names(tmp_path: Path) -> None:
    config = tmp_path / "dialer.toml"
    block = f'[[webhooks]]\nurl = "https://crm.example.com/a"\nsecret = "{SECRET}"\n'
    config.write_text(block * 2, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"two webhooks named 'crm\.example\.com'"):
        load_settings(config, env={})


def test_credentials_in_a_url_are_masked_wherever_an_endpoint_is_shown() -> None:
    url = "https://user:pa55@crm.example.com:8443/hook?token=t0p&x=1#frag"
    assert masked_url(url) == "https://***@crm.example.com:8443/hook?token=***&x=***"
    hook = WebhookEndpoint(name="crm", url=url, secret=SECRET)  # type: ignore[arg-type]
    settings = Settings(webhooks=(hook,))
    for shown in (repr(hook), str(hook), repr(settings)):
        assert "pa55" not in shown and "t0p" not in shown and SECRET not in shown


def test_signatures_verify_with_the_reference_library() -> None:
    body = ping_body("crm", utcnow())
    headers = signed_headers(
        WebhookEndpoint(url="https://x.io", secret=SECRET).secret,  # type: ignore[arg-type]
        message_id="msg_1",
        timestamp=utcnow(),
        body=body,
    )
    assert Webhook(SECRET).verify(body, headers) == json.loads(body)
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(body + b" ", headers)
    other = "whsec_" + "A" * 43 + "="
    with pytest.raises(WebhookVerificationError):
        Webhook(other).verify(body, headers)


def test_a_stale_signature_is_refused_by_receivers() -> None:
    body = b"{}"
    old = datetime(2026, 1, 1, tzinfo=UTC)
    secret = WebhookEndpoint(url="https://x.io", secret=SECRET).secret  # type: ignore[arg-type]
    headers = signed_headers(secret, message_id="msg_1", timestamp=old, body=body)
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(body, headers)


def test_the_published_schema_is_the_payload_models_schema() -> None:
    published = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert published == payload_schema(), "regenerate docs/webhook-payload.schema.json"
