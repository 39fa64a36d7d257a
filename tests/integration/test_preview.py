"""campaigns.preview against a real ledger: the import's report, and nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from campaigns.importer import import_campaign
from campaigns.preview import preview_import
from campaigns.spec import CampaignSpec
from dialer.errors import CampaignError, UnknownCampaign
from dialer.ledger import campaigns as ledger_campaigns
from dialer.ledger import contacts as ledger_contacts
from dialer.ledger.engine import session_scope, utcnow
from dialer.settings import Settings

LEADS = "Name,Phone\nAnn,(212) 555-2671\nBob,2125552672\nCy,212 555 2671\nDi,2125552673\n"


def _spec(tmp_path: Path, **options: object) -> CampaignSpec:
    leads = tmp_path / "leads.csv"
    if not leads.exists():
        leads.write_text(LEADS, encoding="utf-8")
    fields: dict[str, object] = {
        "name": "spring",
        "account": "sandbox",
        "csv_path": leads,
        "rejects_path": tmp_path / "rejects.csv",
        **options,
    }
    return CampaignSpec(**fields)  # type: ignore[arg-type]


def test_preview_sees_the_do_not_call_list_and_writes_nothing(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    with session_scope(engine) as session:
        ledger_contacts.add_suppressions(
            session, phones=["+12125552673"], source="test", now=utcnow()
        )
    settings = Settings(database_url=database_url)
    preview = preview_import(settings, _spec(tmp_path), now=utcnow(), engine=engine, sample=1)
    assert (preview.summary.rows_read, preview.summary.accepted) == (4, 2)
    assert dict(preview.summary.rejected) == {"duplicate": 1, "suppressed": 1}
    assert [(c.row, c.phone, c.variables["name"]) for c in preview.contacts] == [
        (1, "+12125552671", "Ann")
    ]
    assert not (tmp_path / "rejects.csv").exists()
    with session_scope(engine) as session:
        assert ledger_campaigns.list_campaigns(session) == []

    rejects = tmp_path / "dry-rejects.csv"
    preview_import(settings, _spec(tmp_path), now=utcnow(), engine=engine, rejects=rejects)
    assert rejects.read_text(encoding="utf-8").splitlines() == [
        "row,value,reason,detail",
        "3,212 555 2671,duplicate,same number as row 1",
        "4,2125552673,suppressed,on a do-not-call list",
    ]


def test_preview_raises_what_the_import_would(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    settings = Settings(database_url=database_url)
    with pytest.raises(UnknownCampaign):
        preview_import(settings, _spec(tmp_path, append=True), now=utcnow(), engine=engine)
    import_campaign(engine, settings, _spec(tmp_path), now=utcnow())
    with pytest.raises(CampaignError, match="already exists"):
        preview_import(settings, _spec(tmp_path, name="SPRING"), now=utcnow(), engine=engine)
    appended = preview_import(settings, _spec(tmp_path, append=True), now=utcnow(), engine=engine)
    assert (appended.summary.accepted, dict(appended.summary.rejected)) == (0, {"duplicate": 4})
