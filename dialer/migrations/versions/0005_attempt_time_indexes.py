"""attempt: indexes by (campaign_id, started_at, result) and (account, started_at)

The console reads attempts by time: a campaign's calls per minute over a time range, its most
recent attempts (newest first, LIMIT n), and an account's requests of the last minutes. Each
is a range scan of one of these indexes, never a scan of the campaign's or the account's
whole history; ``result`` in the first lets the calls-per-minute count read the index alone.
An attempt is one row per provider request, so the two index entries cost nothing next to
the request itself.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 12:45:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_attempt_campaign_started", "attempt", ["campaign_id", "started_at", "result"]
    )
    op.create_index("ix_attempt_account_started", "attempt", ["account", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_attempt_account_started", table_name="attempt")
    op.drop_index("ix_attempt_campaign_started", table_name="attempt")
