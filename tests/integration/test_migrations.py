"""The migrations build exactly the schema the models declare, on SQLite and Postgres, and
the contact index changes (0003, 0012) keep the contacts and the duplicate guarantee."""

from __future__ import annotations

from importlib.resources import files

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Connection, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel

import dialer.models  # noqa: F401  (registers the tables)


def _config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("dialer") / "migrations"))
    config.attributes["connection"] = connection
    return config


def test_the_migrated_schema_is_the_models_schema(engine: Engine) -> None:
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == []


def _contact(connection: Connection, phone: str) -> None:
    connection.execute(
        text(
            'INSERT INTO contact (campaign_id, "row", phone, raw_phone, number_type, zone_key,'
            " first_name, last_name, email, variables, state, attempts, last_error)"
            " VALUES (1, 1, :phone, :raw, 'mobile', '', '', '', '', '{}', 'pending', 0, '')"
        ),
        {"phone": phone, "raw": phone},
    )


def _phone_row(connection: Connection, phone: str, contact_id: int) -> None:
    connection.execute(
        text("INSERT INTO contact_phone (campaign_id, phone, contact_id) VALUES (1, :phone, :id)"),
        {"phone": phone, "id": contact_id},
    )


def test_0003_and_0012_keep_the_contacts_and_the_uniqueness_both_ways(engine: Engine) -> None:
    """Down to before 0012 (the unique index on contact again) and before 0003 (the
    constraint), then up again: the contact stays, and a second contact with its number is
    refused at every step, by the index or constraint, then by contact_phone's key."""
    with engine.begin() as connection:
        connection.execute(
            text(
                'INSERT INTO campaign (name, account, status, status_reason, "window", days,'
                " timezone, region, max_attempts, templates, columns, source_file,"
                " source_checksum, rows_read, rows_accepted, rows_rejected, callback_token,"
                " created_at) VALUES ('c', 'sandbox', 'draft', '', '09:00-20:00', 'mon', 'UTC',"
                " 'US', 1, '{}', '[]', '', '', 0, 0, 0, '', '2026-11-23 12:00:00')"
            )
        )
        _contact(connection, "+12125552674")
        contact_id = connection.execute(text("SELECT id FROM contact")).scalar_one()
        _phone_row(connection, "+12125552674", contact_id)
    for migration, revision in (
        (command.downgrade, "0011"),
        (command.downgrade, "0002"),
        (command.upgrade, "head"),
    ):
        # Not in a transaction: alembic runs each migration in its own (0004 builds an
        # index CONCURRENTLY outside any on Postgres).
        with engine.connect() as connection:
            migration(_config(connection), revision)
        with engine.connect() as connection:
            phones = connection.execute(text("SELECT phone FROM contact")).scalars().all()
            assert phones == ["+12125552674"]
        if revision == "head":
            with engine.connect() as connection:
                rows = connection.execute(text("SELECT * FROM contact_phone")).all()
                assert [tuple(row) for row in rows] == [(1, "+12125552674", contact_id)]
            with pytest.raises(IntegrityError), engine.begin() as connection:
                _phone_row(connection, "+12125552674", contact_id + 1)
        else:
            with pytest.raises(IntegrityError), engine.begin() as connection:
                _contact(connection, "+12125552674")


def test_0009_adds_the_reason_and_recycle_columns_and_takes_them_back(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO suppression (phone, campaign_id, source, reason, created_at)"
                " VALUES ('+12125552674', 0, 'provider', 'sandbox: HTTP 400',"
                " '2026-12-04 12:00:00')"
            )
        )
    with engine.connect() as connection:
        command.downgrade(_config(connection), "0007")
    with engine.connect() as connection:
        columns = set(connection.execute(text("SELECT * FROM suppression")).keys())
        assert "reason" not in columns
        contact = connection.execute(text("SELECT * FROM contact")).keys()
        assert "recycled_from" not in contact and "recycled_at" not in contact
    with engine.connect() as connection:
        command.upgrade(_config(connection), "head")
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT phone, source, reason FROM suppression")).all()
        assert [tuple(row) for row in rows] == [("+12125552674", "provider", "")]


def test_0012_runs_again_after_it_failed_past_its_fill(engine: Engine) -> None:
    """A run that committed the filled table but not the revision (its DROP INDEX
    CONCURRENTLY cancelled, say) is finished by running the upgrade again."""
    with engine.connect() as connection:
        command.stamp(_config(connection), "0011")
    with engine.connect() as connection:
        command.upgrade(_config(connection), "head")
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
        assert connection.execute(text("SELECT count(*) FROM contact_phone")).scalar_one() == 0
    assert differences == []
