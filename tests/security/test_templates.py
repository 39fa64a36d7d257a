"""Message templates: a plain ``{column}`` and ``{{``/``}}`` only, refused at create time in
the CLI and the API with one line naming the placeholder; a rendered field longer than the
provider takes is refused per lead, never sent."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.engine import Engine

from campaigns.importer import import_campaign
from campaigns.spec import CampaignSpec
from dialer.errors import InputError, TemplateError
from dialer.ledger.engine import utcnow
from dialer.providers.limits import MESSAGE_LIMITS
from dialer.settings import AccountConfig, Settings
from dialer.templates import MessageTemplates, placeholders
from tests.api.conftest import upload
from tests.cli.test_cli import dialer, one_line_error

HOSTILE = [
    "Hi {first_name:>20000000}",
    "Hi {first_name!r}",
    "Hi {first_name.__class__.__mro__}",
    "Hi {first_name[0]}",
    "Hi {0}",
    "Hi {}",
    "Hi {first_name:{city}}",
]


@pytest.mark.parametrize("template", HOSTILE)
def test_anything_but_a_plain_placeholder_is_refused(template: str) -> None:
    with pytest.raises(TemplateError, match=r"^placeholder \{.*\} is not allowed"):
        placeholders(template)


def test_plain_placeholders_and_doubled_braces_are_fine() -> None:
    assert placeholders("{{literal}} Hi {first_name}, from {city}}}") == ["first_name", "city"]


@pytest.mark.parametrize("template", HOSTILE)
def test_the_api_refuses_it_with_one_line_not_a_500(api: TestClient, template: str) -> None:
    status, body = upload(api, intro=template, voicemail="Sorry we missed you")
    assert status == 422, body
    error = str(body["error"])
    assert error.startswith("intro: placeholder {") and "\n" not in error
    assert api.get("/campaigns/spring").status_code == 404


@pytest.mark.slow
def test_the_cli_refuses_it_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "leads.csv").write_text("First Name,Phone\nAnn,+12125550147\n", encoding="utf-8")
    result = dialer(
        tmp_path,
        "campaign", "create", "spring", "--account", "sandbox", "--csv", "leads.csv",
        "--intro", "Hi {first_name:>20000000}", "--voicemail", "bye",
    )  # fmt: skip
    line = one_line_error(result)
    assert line.startswith("error: --intro: placeholder {first_name:>20000000} is not allowed")


def _libby(sandbox_url: str) -> AccountConfig:
    return AccountConfig(
        name="libby", provider="libby", base_url=sandbox_url, api_key=SecretStr("k" * 20),
        agent_id="agent-1", rate="200/s",
    )  # fmt: skip


def test_a_rendered_text_over_the_provider_limit_is_refused_per_lead(
    engine: Engine, database_url: str, sandbox_url: str, tmp_path: Path
) -> None:
    limit = MESSAGE_LIMITS["libby"]
    leads = tmp_path / "leads.csv"
    leads.write_text(
        f"First Name,Phone\nAnn,+12125550147\n{'x' * limit},+12125550148\n", encoding="utf-8"
    )
    settings = Settings(database_url=database_url, accounts={"libby": _libby(sandbox_url)})
    spec = CampaignSpec(
        name="spring", account="libby", csv_path=leads, rejects_path=tmp_path / "rejects.csv",
        window="00:00-24:00", days="all",
        templates=MessageTemplates(intro="Hi {first_name}", voicemail="Sorry we missed you"),
    )  # fmt: skip
    summary = import_campaign(engine, settings, spec, now=utcnow())
    reason = f"--intro is longer than libby's {limit:,} characters"
    assert (summary.accepted, dict(summary.rejected)) == (1, {reason: 1})
    with (tmp_path / "rejects.csv").open(encoding="utf-8") as rejects:
        assert [(r["row"], r["reason"]) for r in csv.DictReader(rejects)] == [("2", reason)]


def test_a_template_over_the_limit_is_refused_at_create(
    engine: Engine, database_url: str, sandbox_url: str, tmp_path: Path
) -> None:
    leads = tmp_path / "leads.csv"
    leads.write_text("First Name,Phone\nAnn,+12125550147\n", encoding="utf-8")
    settings = Settings(database_url=database_url, accounts={"libby": _libby(sandbox_url)})
    spec = CampaignSpec(
        name="spring", account="libby", csv_path=leads, window="00:00-24:00", days="all",
        templates=MessageTemplates(instructions="Say " + "a" * 5000),
    )  # fmt: skip
    with pytest.raises(InputError, match="--instructions is longer than libby's 4,000"):
        import_campaign(engine, settings, spec, now=utcnow())
