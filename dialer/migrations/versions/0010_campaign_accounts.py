"""campaign.accounts (weights), failover and reassigned; contact.account

Revision ID: 0010
Revises: 0009 (0007 when written; re-chained onto main's 0009 at the rebase)
Create Date: 2026-12-04 15:30:00

Existing campaigns keep their single account: ``accounts`` is backfilled with it at weight
100 (one row per campaign: a small table). ``contact.account`` is a nullable column with no
default, so adding it does not rewrite ``contact`` on Postgres; it stays empty for contacts
dialed before, which dispatch reads as the campaign's own account.
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE (SQLite adds and drops a column in place): a batch copy of the table
    # would trip the foreign keys of contact and attempt.
    op.add_column("campaign", sa.Column("accounts", sa.JSON(), nullable=True))
    op.add_column(
        "campaign", sa.Column("failover", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column(
        "campaign", sa.Column("reassigned", sa.Integer(), nullable=False, server_default="0")
    )
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, account FROM campaign")).all()
    for campaign_id, account in rows:
        connection.execute(
            sa.text("UPDATE campaign SET accounts = :accounts WHERE id = :id"),
            {"accounts": json.dumps([{"name": account, "weight": 100}]), "id": campaign_id},
        )
    op.add_column("contact", sa.Column("account", sa.String(length=200), nullable=True))


def downgrade() -> None:
    op.drop_column("contact", "account")
    for column in ("reassigned", "failover", "accounts"):
        op.drop_column("campaign", column)
