"""The Core views of the ledger's tables (dialer/ledger/tables.py) hold to the models: every
column they name is the model's, of the same kind, and instants come back as the models
return them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import JSON, Boolean, DateTime, Integer, String, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import TableClause
from sqlalchemy.types import TypeDecorator, TypeEngine
from sqlmodel import SQLModel

import dialer.models  # noqa: F401  (declares the tables on SQLModel.metadata)
from dialer.ledger import tables

VIEWS = [tables.campaign, tables.contact, tables.contact_count, tables.attempt]


@pytest.mark.parametrize("view", VIEWS, ids=lambda view: view.name)
def test_every_column_is_the_models(view: TableClause) -> None:
    model: Table = SQLModel.metadata.tables[view.name]
    for column in view.columns:
        declared = model.columns[column.name]
        assert _kind(column.type) is _kind(declared.type), column.name


def _kind(of: TypeEngine[object]) -> type[TypeEngine[object]]:
    """The SQL kind of a column type: integer, string, instant, JSON or boolean (through a
    decorator)."""
    base = of.impl_instance if isinstance(of, TypeDecorator) else of
    kinds = [kind for kind in (Integer, String, DateTime, JSON, Boolean) if isinstance(base, kind)]
    assert len(kinds) == 1, of
    return kinds[0]


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.dialect()])
def test_instants_come_back_as_the_models_return_them(dialect: object) -> None:
    ours = tables.campaign.c.start_at.type
    theirs = SQLModel.metadata.tables["campaign"].c.start_at.type
    naive = datetime(2026, 12, 4, 15, 0)
    paris = datetime(2026, 12, 4, 16, 0, tzinfo=timezone(timedelta(hours=1)))
    for value in (naive, paris, None):
        mine = ours.process_result_value(value, dialect)  # type: ignore[attr-defined]
        model = theirs.process_result_value(value, dialect)  # type: ignore[attr-defined]
        assert mine == model
        assert mine is None or mine.tzinfo is UTC
