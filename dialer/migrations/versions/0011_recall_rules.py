"""recall rules and claim order on the campaign

Revision ID: 0011
Revises: 0010 (written as 0008 on 0007; 0009 and 0010 reached main first, so this one follows them)
Create Date: 2026-12-04 15:30:00

Two nullable columns on ``campaign`` (a small table): existing campaigns keep their flat
``max_attempts``/``retry_after_seconds`` ladder (no rules stored) and the default order.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
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
