"""bad numbers and recycling: suppression.reason, contact.recycled_from and recycled_at

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-04 15:30:00

Nullable columns (and a NOT NULL one with a constant default on the small suppression table):
on Postgres each is a catalogue change, no rewrite of ``contact``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("suppression", sa.Column("reason", sa.Text(), nullable=False, server_default=""))
    op.add_column("contact", sa.Column("recycled_from", sa.Integer(), nullable=True))
    op.add_column("contact", sa.Column("recycled_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contact") as batch:
        batch.drop_column("recycled_at")
        batch.drop_column("recycled_from")
    with op.batch_alter_table("suppression") as batch:
        batch.drop_column("reason")
