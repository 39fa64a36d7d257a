"""The export's contact rows as finished cells, computed by Postgres.

:func:`campaigns.export.export_rows` makes each cell in Python from the contact's columns,
5-10 µs a row by the machine: one core formatting a 10M-contact export for one to two
minutes, while the server idles. Here the server makes the same cells (the status, the
neutralised texts, the zones written out, the time as ``isoformat`` writes it, each lead
column out of ``variables``), and the driver's tuples go to ``csv.writer`` untouched: the
work is shared between two processes (bench/README.md, "The export's cells"). Each rule is
taken from where the Python path takes it (:mod:`dialer.csvsafe`, :mod:`dialer.zone_keys`,
:data:`dialer.models.IN_FLIGHT_STATES`), and tests hold the two paths to the same bytes on
data made to tell them apart.

``variables`` is stored as JSON text: it is parsed once a row, into ``jsonb`` in a subquery
the planner may not fold into the outer query (its ``LIMIT`` keeps it apart). Every lead
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
from dialer.models import IN_FLIGHT_STATES, Contact, ContactState
from dialer.zone_keys import CODE_PREFIX, listed_code_keys

MOST_LEAD_COLUMNS = 1_600
"""The most lead columns :func:`iter_export_cells` takes: Postgres selects at most 1,664
columns (the Python path has no bound)."""

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


def iter_export_cells(
    session: Session,
    *,
    campaign_id: int,
    lead_columns: Sequence[str],
    with_account: bool,
    batch: int = 10_000,
) -> Generator[list[tuple[Any, ...]], None, None]:
    """The campaign's contacts in source order as the export writes them (its fixed columns,
    the account when ``with_account``, then ``lead_columns``), ``batch`` rows at a time by
    keyset pagination, as :func:`dialer.ledger.export.iter_export_rows` reads them. Postgres
    only, at most :data:`MOST_LEAD_COLUMNS` lead columns."""
    connection = session.connection()
    query = _cells_query(lead_columns, with_account=with_account)
    params: dict[str, Any] = {"campaign": campaign_id, "after": 0, "batch": batch}
    while True:
        rows = connection.execute(query, params).all()
        if not rows:
            return
        params["after"] = rows[-1][0]
        yield [found[1:] for found in rows]


def _cells_query(lead_columns: Sequence[str], *, with_account: bool) -> Any:
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
    cells: list[ColumnElement[Any]] = [
        s.row,
        s.phone,
        case(
            (s.state.in_(sorted(IN_FLIGHT_STATES)), "pending"),
            (and_(s.state == ContactState.PLACED, s.outcome != ""), s.outcome),
            else_=s.state,
        ),
        s.attempts,
        _neutralised(func.coalesce(s.provider_call_id, "")),
        _neutralised(s.last_error),
        func.coalesce(s.outcome, ""),
        s.state,
        _neutralised(func.coalesce(s.extension, "")),
        s.number_type,
        _listed_zones(s.zone_key),
        _isoformat(s.state_changed_at),
        *([func.coalesce(s.account, "")] if with_account else []),
        *(_neutralised(func.coalesce(s.lead[name].astext, "")) for name in lead_columns),
    ]
    # Ordered by the subquery's own order, which the plan keeps: no sort.
    return select(s.id, *cells).order_by(s.id)


def _neutralised(text: ColumnElement[Any]) -> ColumnElement[Any]:
    """:func:`dialer.csvsafe.neutralise` of ``text``."""
    return case(
        (
            and_(
                func.left(text, 1).in_(TRIGGERS),
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
