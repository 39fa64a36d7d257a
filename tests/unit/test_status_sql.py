"""The SQL ``dialer campaign status`` runs without SQLAlchemy (dialer/ledger/status_sql.py) is
what SQLAlchemy compiles the status reads' Core statements to (dialer/ledger/statements.py),
for each database: written once, as Core, and never by hand."""

from __future__ import annotations

import pytest

from dialer.ledger import statements, status_sql


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_stored_sql_is_the_core_statements_compiled(database: str) -> None:
    assert status_sql.STORED[database] == statements.compiled(database), (
        "a status read changed: paste statements.stored_source() into status_sql.py"
    )


def test_the_stored_source_is_the_stored_sql() -> None:
    namespace: dict[str, object] = {"Stored": status_sql.Stored}
    exec(statements.stored_source(), namespace)
    assert namespace["STORED"] == status_sql.STORED


def test_every_status_read_is_stored_for_both_databases() -> None:
    assert set(status_sql.STORED) == {"sqlite", "postgresql"}
    for stored in status_sql.STORED.values():
        assert set(stored) == set(statements.STATEMENTS)
