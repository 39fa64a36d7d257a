"""``column IN (values)`` for the long lists the dispatch path passes (a batch's ids, its
numbers), written so the database gets the same statement text whatever their number."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any
from typing import cast as typed

from sqlalchemy import ARRAY, ColumnElement, any_, bindparam, cast
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped
from sqlmodel import Session


def one_of(
    bind: Session | Connection, column: Mapped[Any], values: Collection[Any]
) -> ColumnElement[bool]:
    """``column`` (a mapped column: ``col(Model.field)``) is one of ``values``: on Postgres
    ``column = ANY(CAST(:array AS type[]))``, one parameter; elsewhere an expanding ``IN``.

    An expanding IN renders a placeholder per value: at a batch of 500 the statement is a
    new text of several kilobytes each time, which psycopg parses again (it caches short
    statements only) and SQLAlchemy renders again, ~3-5 ms of CPU a statement on every
    tick. One array parameter keeps the text fixed, so both caches hold it."""
    dialect = bind.get_bind().dialect if isinstance(bind, Session) else bind.dialect
    if dialect.name != "postgresql":
        return column.in_(values)
    # col() is typed Mapped; at run time it is the column's attribute, which has a type.
    element_type = typed(ColumnElement[Any], column).type
    array = cast(bindparam(None, list(values), expanding=False), ARRAY(element_type))
    return column == any_(array)
