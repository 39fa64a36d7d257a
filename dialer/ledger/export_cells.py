"""The export's contact rows as finished cells, computed by Postgres.

:func:`campaigns.export.export_rows` makes each cell in Python from the contact's columns,
5-10 µs a row by the machine: one core formatting a 10M-contact export for one to two
minutes, while the server idles. Here the server makes the same cells (the status, the
neutralised texts, the zones written out, the time as ``isoformat`` writes it, each lead
column out of ``variables``), and the driver's tuples go to ``csv.writer`` untouched: the
work is shared between two processes (bench/README.md, "The export's cells"). For a
campaign of few lead columns only (:data:`MOST_LEAD_COLUMNS`). Each rule is
taken from where the Python path takes it (:mod:`dialer.csvsafe`, :mod:`dialer.zone_keys`,
:data:`dialer.models.IN_FLIGHT_STATES`), and tests hold the two paths to the same bytes on
data made to tell them apart.

``variables`` is stored as JSON text: it is parsed once a row, into ``jsonb`` in a subquery
the planner may not fold into the outer query (its ``OFFSET`` keeps it apart). Every lead
column named straight from the JSON column parsed the whole text again: 20 µs a row on the
server for a handful of columns. Lead values are text (the importer, the API and recycling
write nothing else), and hold no NUL, which ``jsonb`` refuses (the importer refuses a file
with one).
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    not_,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Session

from dialer.csvsafe import TRIGGERS, phone_like_pattern
from dialer.ledger.export import id_pages
from dialer.models import IN_FLIGHT_STATES, Contact, ContactState
from dialer.zone_keys import CODE_PREFIX, listed_code_keys

MOST_LEAD_COLUMNS = 8
"""The most lead columns :func:`iter_export_cells` is for. Each lead cell costs the server a
``jsonb`` lookup (~0.2 µs) that Python does for less, and the reading thread parses the
batch only once the server has made all of it: past ~5-8 lead columns the Python path is as
fast or faster (bench/README.md, "The export's cells"), and Postgres selects at most 1,664
columns anyway."""

_TABLE = Contact.__table__  # type: ignore[attr-defined]
_READ = (
    "id",
    "row",
    "phone",
    "state",
    "outcome",
    "attempts",
    "provider_call_id",
    "last_error",
    "extension",
    "number_type",
    "zone_key",
    "state_changed_at",
    "account",
    "variables",
)
_CHECKED = ("provider_call_id", "last_error", "extension")


def iter_export_cells(
    session: Session,
    *,
    campaign_id: int,
    lead_columns: Sequence[str],
    with_account: bool,
    # Small batches: the garbage collector walks every tuple a batch holds (10,000 a batch
    # cost a third more CPU a row).
    batch: int = 2_000,
) -> Generator[list[tuple[Any, ...]], None, None]:
    """The campaign's contacts in source order as the export writes them (its fixed columns,
    the account when ``with_account``, then ``lead_columns``), ``batch`` rows at a time by
    keyset pagination, as :func:`dialer.ledger.export.iter_export_rows` reads them. Postgres
    only, at most :data:`MOST_LEAD_COLUMNS` lead columns."""
    query = _cells_query(lead_columns, with_account=with_account)
    params = {"campaign": campaign_id, "batch": batch}
    for rows in id_pages(session.connection(), query, params):
        yield [found[1:] for found in rows]


def _cells_query(lead_columns: Sequence[str], *, with_account: bool) -> Select[Any]:
    c = _TABLE.c
    page = (
        select(*(c[name] for name in _READ))
        .where(c.campaign_id == bindparam("campaign"), c.id > bindparam("after"))
        .order_by(c.id)
        .limit(bindparam("batch", type_=Integer))
        .subquery("page")
    )
    p = page.c
    # The JSON parsed once a row of the page: in a subquery of its own above the LIMIT (a
    # plan that sorts the campaign's rows would otherwise parse every one of them, on every
    # page), which its OFFSET keeps the planner from folding into the cells (every lead
    # column would parse it again).
    contacts = (
        select(
            *(p[name] for name in _READ if name != "variables"),
            cast(p.variables, JSONB).label("lead"),
        )
        .order_by(p.id)
        .offset(0)
        .subquery("contacts")
    )
    s = contacts.c
    # Each text the formula check reads, taken once (out of the parsed JSON, for a lead
    # column) in a subquery of its own: the check names it up to four times.
    texts = (
        select(
            *(s[name] for name in _READ if name not in ("variables", *_CHECKED)),
            func.coalesce(s.provider_call_id, "").label("provider_call_id"),
            s.last_error,
            func.coalesce(s.extension, "").label("extension"),
            *(
                func.coalesce(s.lead[name].astext, "").label(f"lead_{index}")
                for index, name in enumerate(lead_columns)
            ),
        )
        .order_by(s.id)
        .offset(0)
        .subquery("texts")
    )
    t = texts.c
    cells: list[ColumnElement[Any]] = [
        t.row,
        t.phone,
        case(
            (t.state.in_(sorted(IN_FLIGHT_STATES)), "pending"),
            (and_(t.state == ContactState.PLACED, t.outcome != ""), t.outcome),
            else_=t.state,
        ),
        t.attempts,
        _neutralised(t.provider_call_id),
        _neutralised(t.last_error),
        func.coalesce(t.outcome, ""),
        t.state,
        _neutralised(t.extension),
        t.number_type,
        _listed_zones(t.zone_key),
        _isoformat(t.state_changed_at),
        *([func.coalesce(t.account, "")] if with_account else []),
        *(_neutralised(t[f"lead_{index}"]) for index in range(len(lead_columns))),
    ]
    # Ordered by the subquery's own order, which the plan keeps: no sort.
    return select(t.id, *cells).order_by(t.id)


def _neutralised(text: ColumnElement[Any]) -> ColumnElement[Any]:
    """:func:`dialer.csvsafe.neutralise` of ``text``."""
    return case(
        (
            and_(
                # The first character's code: cheaper than comparing a substring.
                func.ascii(text).in_(sorted(ord(trigger) for trigger in TRIGGERS)),
                not_(text.regexp_match(phone_like_pattern())),
            ),
            literal("'", String) + text,
        ),
        else_=text,
    )


def _listed_zones(key: ColumnElement[Any]) -> ColumnElement[Any]:
    """:func:`dialer.zone_keys.listed_zones` of ``key``: the whens are compared only for the
    keys written as a calling code."""
    written_out = case(listed_code_keys(), value=key, else_=key)
    return case((func.left(key, 1) == CODE_PREFIX, written_out), else_=key)


def _isoformat(moment: ColumnElement[Any]) -> ColumnElement[Any]:
    """What ``datetime.isoformat`` writes of ``moment`` as the ledger reads it (in UTC, as
    :class:`dialer.ledger.tables.UTCDateTime` does, whatever the session's time zone):
    microseconds only when there are some, then ``+00:00``; ``""`` for none."""
    utc = func.timezone("UTC", moment)
    fraction = case(
        (utc != func.date_trunc("second", utc), func.to_char(utc, ".US", type_=String)),
        else_="",
    )
    written = (
        func.to_char(utc, 'YYYY-MM-DD"T"HH24:MI:SS', type_=String)
        + fraction
        + literal("+00:00", String)
    )
    return func.coalesce(written, "")
