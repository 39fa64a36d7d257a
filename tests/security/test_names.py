"""One rule for campaign names (dialer.names), in the CLI, the API and the ledger."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from dialer.errors import CampaignError, InputError
from dialer.ledger import campaigns as ledger_campaigns
from dialer.ledger.engine import session_scope, utcnow
from dialer.models import Campaign
from dialer.names import campaign_name
from tests.api.conftest import upload
from tests.cli.test_cli import dialer, one_line_error

CYRILLIC_SPRING = "\u0405pring"  # a Cyrillic S
BAD = [
    "spring\nERROR forged log line",
    "spr\x1bing",
    "spr\u200bing",
    ".",
    "..",
    "  ",
    "",
    "x" * 101,
    "../../etc/cron.d/x",
    "a\\b",
    CYRILLIC_SPRING,
]


@pytest.mark.parametrize("name", BAD)
def test_bad_names_are_refused_in_one_line(name: str) -> None:
    with pytest.raises(InputError) as refused:
        campaign_name(name)
    assert "\n" not in str(refused.value)


def test_names_are_normalised_and_trimmed() -> None:
    assert campaign_name("  \uff33pring 2026 ") == "Spring 2026"  # a fullwidth S
    assert campaign_name("Весна") == "Весна"


@pytest.mark.parametrize("name", BAD)
def test_the_api_refuses_them(api: TestClient, name: str) -> None:
    status, body = upload(api, name=name)
    assert status == 422, body
    assert "\n" not in str(body["error"])


def test_names_are_unique_without_regard_to_case_or_width(api: TestClient) -> None:
    assert upload(api, name="Spring")[0] == 201
    for clash in ("spring", "SPRING", "\uff33pring"):
        status, body = upload(api, name=clash)
        assert status == 409, body
    assert [c["name"] for c in api.get("/campaigns").json()] == ["Spring"]


def test_the_ledger_refuses_a_bad_or_clashing_name(engine: Engine) -> None:
    def create(name: str) -> None:
        with session_scope(engine) as session:
            campaign = Campaign(name=name, account="sandbox", created_at=utcnow())
            ledger_campaigns.create_campaign(session, campaign=campaign)

    create("Spring")
    with pytest.raises(CampaignError):
        create("sPRING")
    for name in (".", "a\nb", " Spring"):
        with pytest.raises(InputError):
            create(name)


@pytest.mark.slow
def test_the_cli_refuses_them(tmp_path: Path) -> None:
    """One process (the rule itself is tested above, in-process): a name forging a log line."""
    (tmp_path / "leads.csv").write_text("Phone\n+12125550147\n", encoding="utf-8")
    result = dialer(
        tmp_path, "campaign", "create", "a\nb", "--account", "sandbox", "--csv", "leads.csv"
    )
    assert one_line_error(result).startswith("error: campaign name")
    assert not list(tmp_path.glob("*rejects*"))
