"""contact_phone: each campaign's numbers in a table of their own, instead of an index on contact

contact_phone (campaign_id, phone) -> contact_id, keyed on (campaign_id, phone), holds what
uq_contact_campaign_phone held: no campaign has a number twice. An import now fills it once,
sorted by number, when its contacts are in (dialer.ledger.contacts.adding_contacts); the
unique index on contact took a large file's numbers in random order, which past the buffer
cache made a 10M import cost 12-15x a 1M one (bench/README.md, "The phone table").

It is filled here in one sorted INSERT ... SELECT. On Postgres that runs while writes to
contact wait (a SHARE lock: readers, the console and exports, go on), then the old index is
dropped CONCURRENTLY, outside a transaction. Stop workers, beat and imports of the previous
version before upgrading, as for 0006: they would add contacts without their numbers.
bench/README.md says what the upgrade of a large ledger costs.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_INDEX = "uq_contact_campaign_phone"


def upgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    # Again after a failed run (say the DROP INDEX CONCURRENTLY was cancelled): the table
    # was committed then, whole, and the old index may still be there.
    if not sa.inspect(bind).has_table("contact_phone"):
        _create_and_fill(postgres=postgres)
    if not postgres:
        op.drop_index(_OLD_INDEX, "contact", if_exists=True)
        return
    with op.get_context().autocommit_block():
        op.drop_index(_OLD_INDEX, "contact", postgresql_concurrently=True, if_exists=True)


def _create_and_fill(*, postgres: bool) -> None:
    op.create_table(
        "contact_phone",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("campaign_id", "phone"),
        sqlite_with_rowid=False,
    )
    if postgres:
        op.execute("LOCK TABLE contact IN SHARE MODE")
    op.execute(
        "INSERT INTO contact_phone (campaign_id, phone, contact_id)"
        " SELECT campaign_id, phone, id FROM contact ORDER BY campaign_id, phone"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            op.create_index(
                _OLD_INDEX,
                "contact",
                ["campaign_id", "phone"],
                unique=True,
                postgresql_concurrently=True,
            )
    else:
        op.create_index(_OLD_INDEX, "contact", ["campaign_id", "phone"], unique=True)
    op.drop_table("contact_phone")
