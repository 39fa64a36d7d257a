"""``dialer.ledger.export_cells`` on Postgres: the server's cells are, byte for byte, the
cells ``campaigns.export.export_rows`` makes in Python, on data made to tell them apart."""

from __future__ import annotations

import csv
import io
import itertools
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from campaigns.export import (
    BYTE_ORDER_MARK,
    FIXED_COLUMNS,
    export_batches,
    export_rows,
    write_export,
)
from dialer.api.app import create_app
from dialer.csvsafe import neutralise, phone_like_pattern
from dialer.ledger.engine import session_scope, utcnow
from dialer.ledger.export_cells import MOST_LEAD_COLUMNS, iter_export_cells
from dialer.models import Campaign, Contact, ContactState
from tests.api.conftest import API_KEY, api_settings

pytestmark = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)

COLUMNS = ["note", "City", 'say "hi"', "état", "absent"]
TEXTS = [
    "",
    " ",
    "plain",
    "comma, inside",
    'a "quoted" word',
    "two\nlines",
    "carriage\rreturn",
    "crlf\r\nend",
    "=HYPERLINK(x)",
    "=1+1",
    "@SUM(A1)",
    "\tleading tab",
    "\rleading CR",
    "+1 (212) 555-2671",
    "-2.5",
    "+44 20 7946 0958 x",
    "-\u0661\u0662\u0663",
    "+1\u00a0212\u2009555",
    "+\u2028",
    "back\\slash",
    '\\u0041 "\\n"',
    "Montréal ✓ 🎉",
    "'already quoted",
    "x" * 3000,
]
ZONE_KEYS = [
    "",
    "America/New_York",
    "America/Chicago|America/New_York",
    "+1",
    "+7",
    "+44",
    "+999",
    "+x",
]
MOMENTS = [
    None,
    datetime(2026, 12, 5, 1, 2, 3, tzinfo=UTC),
    datetime(2026, 12, 5, 1, 2, 3, 456789, tzinfo=UTC),
    datetime(2026, 12, 5, 1, 2, 3, 100, tzinfo=UTC),
    datetime(1999, 1, 1, tzinfo=UTC),
]


def _campaign(engine: Engine, name: str, *, several: bool, columns: Sequence[str] = COLUMNS) -> int:
    accounts = [{"name": "a", "weight": 1}, {"name": "b", "weight": 3}] if several else None
    with session_scope(engine) as session:
        campaign = Campaign(
            name=name,
            name_key=name,
            account="a",
            accounts=accounts,
            columns=list(columns),
            created_at=utcnow(),
        )
        session.add(campaign)
        session.flush()
        assert campaign.id is not None
        return campaign.id


def _add(engine: Engine, campaign_id: int, contacts: Iterable[dict[str, Any]]) -> None:
    with session_scope(engine) as session:
        for row, fields in enumerate(contacts, start=1):
            session.add(
                Contact(
                    campaign_id=campaign_id,
                    row=row,
                    phone=f"+1212555{row:04d}",
                    **fields,
                )
            )


def _tricky_contacts() -> Iterable[dict[str, Any]]:
    states = itertools.cycle(list(ContactState))
    outcomes = itertools.cycle([None, "", "voicemail", "=evil"])
    texts = itertools.cycle(TEXTS)
    optional = itertools.cycle([None, *(text[:20] for text in TEXTS)])  # the columns hold 20
    zones = itertools.cycle(ZONE_KEYS)
    moments = itertools.cycle(MOMENTS)
    accounts = itertools.cycle([None, "a", "b"])
    for index in range(3 * len(TEXTS)):
        variables: dict[str, Any] = {name: next(texts) for name in COLUMNS[:-1]}
        if index % 5 == 0:
            variables["City"] = None
        if index % 7 == 0:
            del variables["note"]
        yield {
            "state": next(states),
            "outcome": next(outcomes),
            "attempts": index % 4,
            "provider_call_id": next(optional),
            "last_error": next(texts),
            "extension": next(optional),
            "number_type": "mobile",
            "zone_key": next(zones),
            "state_changed_at": next(moments),
            "account": next(accounts),
            "variables": variables,
        }


def _csv(rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue()


def _python_export(engine: Engine, name: str) -> str:
    return _csv(export_rows(engine, name))


def _server_export(engine: Engine, name: str) -> str:
    out = io.StringIO()
    write_export(engine, name, out)
    return out.getvalue()


@pytest.mark.parametrize("several", [False, True])
def test_the_server_writes_the_bytes_python_writes(engine: Engine, several: bool) -> None:
    campaign_id = _campaign(engine, "tricky", several=several)
    _add(engine, campaign_id, _tricky_contacts())
    expected = _python_export(engine, "tricky")
    assert _server_export(engine, "tricky") == expected
    header, _ = expected.split("\r\n", 1)
    with session_scope(engine) as session:
        batches = list(
            iter_export_cells(
                session,
                campaign_id=campaign_id,
                lead_columns=COLUMNS,
                with_account=several,
                batch=7,
            )
        )
    assert {len(batch) for batch in batches[:-1]} == {7}
    assert header + "\r\n" + _csv(itertools.chain.from_iterable(batches)) == expected
    assert "'=HYPERLINK(x)" in expected and ",+1 (212) 555-2671," in expected
    assert "America/Adak|America/Anchorage" in expected and ",+999," in expected


def test_the_api_streams_the_same_bytes(engine: Engine, database_url: str, tmp_path: Path) -> None:
    _add(engine, _campaign(engine, "tricky", several=False), _tricky_contacts())
    app = create_app(api_settings(database_url), engine, tmp_path / "files")
    with (
        TestClient(app, headers={"X-API-Key": API_KEY}) as client,
        client.stream("GET", "/campaigns/tricky/export?excel=1") as response,
    ):
        assert response.status_code == 200
        streamed = b"".join(response.iter_bytes()).decode("utf-8")
    assert streamed == BYTE_ORDER_MARK + _python_export(engine, "tricky")


def test_times_are_written_in_utc_whatever_the_sessions_time_zone(
    engine: Engine, database_url: str
) -> None:
    _add(engine, _campaign(engine, "tricky", several=False), _tricky_contacts())
    expected = _python_export(engine, "tricky")
    assert "T01:02:03.456789+00:00" in expected
    elsewhere = create_engine(database_url, connect_args={"options": "-c TimeZone=Asia/Kolkata"})
    try:
        assert _server_export(elsewhere, "tricky") == expected
        assert _python_export(elsewhere, "tricky") == expected
    finally:
        elsewhere.dispose()


def test_many_batches_read_ahead_come_out_whole_and_in_order(engine: Engine) -> None:
    campaign_id = _campaign(engine, "big", several=False)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO contact (campaign_id, row, phone, raw_phone, number_type, zone_key,"
                " first_name, last_name, email, variables, state, attempts, last_error)"
                " SELECT :campaign, n, '+1212' || lpad(n::text, 7, '0'), '', 'mobile', '+1',"
                " '', '', '', json_build_object('note', '=n' || n), 'pending', 0, ''"
                " FROM generate_series(1, 25001) AS n"
            ),
            {"campaign": campaign_id},
        )
    server = _server_export(engine, "big")
    assert server == _python_export(engine, "big")
    rows = list(csv.reader(io.StringIO(server)))
    assert [row[0] for row in rows[1:]] == [str(n) for n in range(1, 25002)]
    assert rows[-1][FIXED_COLUMNS.index("timezones")].startswith("America/Adak|")


def test_an_abandoned_export_gives_its_connection_back(engine: Engine) -> None:
    _add(engine, _campaign(engine, "tricky", several=False), _tricky_contacts())
    batches = export_batches(engine, "tricky")
    next(batches)
    batches.close()
    deadline = time.monotonic() + 5
    while engine.pool.checkedout() and time.monotonic() < deadline:  # type: ignore[attr-defined]
        time.sleep(0.01)
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]


def _wide_campaign(engine: Engine, *, several: bool) -> str:
    """The Python export of a new campaign of one lead column too many for the server's
    cells, each a formula, over three contacts."""
    columns = [f"c{n}" for n in range(MOST_LEAD_COLUMNS + 1)]
    _add(
        engine,
        _campaign(engine, "wide", several=several, columns=columns),
        [{"variables": {name: f"={name}" for name in columns}}] * 3,
    )
    return _python_export(engine, "wide")


@pytest.fixture
def no_server_cells(monkeypatch: pytest.MonkeyPatch) -> None:
    """The server's cells fail the test if asked for."""

    def not_here(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the server's cells were asked for")

    monkeypatch.setattr("campaigns.export.iter_export_cells", not_here)


@pytest.mark.usefixtures("no_server_cells")
def test_a_campaign_of_many_lead_columns_takes_the_python_path(engine: Engine) -> None:
    expected = _wide_campaign(engine, several=True)
    exported = _server_export(engine, "wide")
    assert exported == expected
    assert exported.count(f",'=c{MOST_LEAD_COLUMNS}") == 3


@pytest.mark.usefixtures("no_server_cells")
def test_columns_appended_after_the_path_was_chosen_take_the_python_cells(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _wide_campaign(engine, several=False)
    monkeypatch.setattr("campaigns.export._lead_columns", lambda *_args: 1)
    assert _server_export(engine, "wide") == expected


def test_an_unknown_campaign_is_a_404_before_the_stream(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    app = create_app(api_settings(database_url), engine, tmp_path / "files")
    with TestClient(app, headers={"X-API-Key": API_KEY}) as client:
        assert client.get("/campaigns/ghost/export").status_code == 404
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]


def test_postgres_reads_the_spelt_out_pattern_as_python_does(engine: Engine) -> None:
    with engine.connect() as connection:
        kept = connection.execute(
            text(
                "SELECT array_agg(n) FROM generate_series(1, 1114111) AS n"
                " WHERE n NOT BETWEEN 55296 AND 57343 AND ('+1' || chr(n)) ~ :pattern"
            ),
            {"pattern": phone_like_pattern()},
        ).scalar_one()
    assert set(kept) == {
        point
        for point in range(1, 0x110000)
        if not 0xD800 <= point <= 0xDFFF and neutralise("+1" + chr(point)) == "+1" + chr(point)
    }


def test_only_the_campaigns_own_contacts_come_out(engine: Engine) -> None:
    mine, other = (
        _campaign(engine, "mine", several=False),
        _campaign(engine, "other", several=False),
    )
    _add(engine, other, [{"variables": {"note": "theirs"}}] * 3)
    _add(engine, mine, [{"variables": {"note": "mine"}}] * 2)
    _add(engine, other, [{"variables": {"note": "theirs"}}])
    exported = list(csv.DictReader(io.StringIO(_server_export(engine, "mine"))))
    assert [row["note"] for row in exported] == ["mine", "mine"]
    assert _server_export(engine, "mine") == _python_export(engine, "mine")


_TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=30)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "last_error": _TEXT,
                "provider_call_id": st.none() | _TEXT.map(lambda text: text[:20]),
                "extension": st.none() | _TEXT.map(lambda text: text[:20]),
                "variables": st.dictionaries(st.sampled_from(COLUMNS), _TEXT),
            }
        ),
        min_size=1,
        max_size=12,
    )
)
def test_any_text_comes_out_as_python_writes_it(
    engine: Engine, contacts: list[dict[str, Any]]
) -> None:
    name = f"any-{next(_NAMES)}"
    _add(engine, _campaign(engine, name, several=False), contacts)
    assert _server_export(engine, name) == _python_export(engine, name)


_NAMES = itertools.count()
