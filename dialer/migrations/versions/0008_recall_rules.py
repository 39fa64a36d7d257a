"""recall rules and claim order on the campaign

Revision ID: 0008
Revises: 0009 (written on 0007; bad numbers' 0009 reached main first, so this one follows it)
Create Date: 2026-12-04 15:30:00

Two nullable columns on ``campaign`` (a small table): existing campaigns keep their flat
``max_attempts``/``retry_after_seconds`` ladder (no rules stored) and the default order.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE (SQLite adds and drops columns itself): a batch copy of the table
    # would trip the foreign keys of contact and attempt.
    op.add_column("campaign", sa.Column("recall_rules", sa.JSON(), nullable=True))
    op.add_column("campaign", sa.Column("claim_order", sa.String(length=20), nullable=True))


def downgrade() -> None:
    op.drop_column("campaign", "claim_order")
    op.drop_column("campaign", "recall_rules")
