"""The status reads of :mod:`dialer.ledger.overview` as SQLAlchemy Core statements, by name:
run through SQLAlchemy here (:func:`core_fetch`), and compiled (:func:`compiled`) to the SQL
:mod:`dialer.ledger.plainread` keeps for each database in :mod:`dialer.ledger.status_sql`
(``tests/unit/test_status_sql.py`` holds that text equal to what these compile to)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Boolean, bindparam, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql import psycopg
from sqlalchemy.types import TypeDecorator, TypeEngine

from dialer.ledger import overview, tallies
from dialer.ledger.status_sql import Stored
from dialer.ledger.tables import UTCDateTime, attempt, campaign, contact, contact_count

if TYPE_CHECKING:
    from sqlalchemy import Connection, Select

_contact = contact.c

STATEMENTS: dict[str, Select[Any]] = {
    "campaign": select(
        *(campaign.c[name] for name in overview.CampaignView.__dataclass_fields__)
    ).where(campaign.c.name == bindparam("name")),
    "counts": tallies.summed(contact_count.c.campaign_id == bindparam("campaign_id")),
    "recent_calls": select(attempt.c.started_at, attempt.c.outcome_at)
    .where(attempt.c.account == bindparam("account"), attempt.c.outcome_at.is_not(None))
    .order_by(attempt.c.id.desc())
    .limit(bindparam("sample")),
    "next_due": select(_contact.next_attempt_at)
    .where(
        _contact.campaign_id == bindparam("campaign_id"),
        _contact.state == bindparam("state"),
        _contact.zone_key == bindparam("zone_key"),
        _contact.next_attempt_at.is_not(None),
    )
    .order_by(_contact.next_attempt_at)
    .limit(1),
}

# The drivers plainread uses, as SQLAlchemy's engines use them (psycopg's dialect casts its
# parameters: ``%(name)s::VARCHAR``), with parameters by name (sqlite3 takes ``:name``).
_DIALECTS = {
    "sqlite": sqlite.dialect(paramstyle="named"),
    "postgresql": psycopg.dialect(),  # type: ignore[no-untyped-call]
}


def core_fetch(connection: Connection) -> overview.Fetch:
    """The status reads on ``connection`` (see :class:`dialer.ledger.overview.Fetch`)."""

    def fetch(statement: str, /, **params: object) -> Sequence[Sequence[Any]]:
        return connection.execute(STATEMENTS[statement], params).all()

    return fetch


def compiled(database: str) -> dict[str, Stored]:
    """Every statement as ``database`` ("sqlite" or "postgresql") runs it."""
    dialect = _DIALECTS[database]
    found = {}
    for name, statement in STATEMENTS.items():
        compiled = statement.compile(dialect=dialect)
        fixed = {key: value for key, value in compiled.params.items() if value is not None}
        kinds = tuple(_kind(column.type) for column in statement.selected_columns)
        found[name] = Stored(str(compiled), fixed, kinds)
    return found


def _kind(of: TypeEngine[Any]) -> str:
    """How plainread converts a column's values: "instant", "json", "bool", or "" (as read)."""
    if isinstance(of, UTCDateTime):
        return "instant"
    base = of.impl_instance if isinstance(of, TypeDecorator) else of
    if isinstance(base, JSON):
        return "json"
    if isinstance(base, Boolean):
        return "bool"
    return ""


def stored_source() -> str:
    """:data:`dialer.ledger.status_sql.STORED` as Python source, to paste there."""
    lines = ["STORED: dict[str, dict[str, Stored]] = {"]
    for database in _DIALECTS:
        lines.append(f"    {database!r}: {{")
        for name, (sql, fixed, kinds) in compiled(database).items():
            lines.append(f"        {name!r}: Stored(")
            lines.extend(f"            {piece!r}" for piece in _pieces(sql))
            lines.append(f"            , {fixed!r}, {kinds!r}),")
        lines.append("    },")
    lines.append("}")
    return "\n".join(lines)


def _pieces(text: str, width: int = 80) -> list[str]:
    """``text`` cut after spaces into pieces of about ``width`` characters (source lines)."""
    pieces = [""]
    for word in text.split(" "):
        if len(pieces[-1]) + len(word) > width:
            pieces.append("")
        pieces[-1] += word + " "
    pieces[-1] = pieces[-1][:-1]
    return pieces
