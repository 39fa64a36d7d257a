"""contact_count, attempt_count: counted with the transitions; ix_contact_claim like the claim

contact_count holds signed changes to the number of contacts per (campaign, state, zone key,
outcome), attempt_count the same for attempts per (account, result) and their rate-limit
waits, written by every transition (dialer.ledger.counts); both are filled here, once.
ix_contact_claim (campaign_id, state, zone_key, next_attempt_at, id) lets the claim read one
short range per open zone key, and replaces ix_contact_due, whose queries it serves too.

On Postgres the counts are filled while writes to contact and attempt wait (SHARE locks:
readers go on), then the index is built and the old one dropped CONCURRENTLY, outside a
transaction: the dispatcher keeps writing meanwhile. Stop workers and beat of the previous
version before upgrading: they would move contacts without counting them. bench/README.md
says what the upgrade of a large ledger costs.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 12:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CLAIM_COLUMNS = ["campaign_id", "state", "zone_key", "next_attempt_at", "id"]


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "contact_count",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("zone_key", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=30), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_contact_count_campaign", "contact_count", ["campaign_id", "state"])
    op.create_table(
        "attempt_count",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(length=200), nullable=False),
        sa.Column("result", sa.String(length=20), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("waits", sa.Integer(), nullable=False),
        sa.Column("wait_ms", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    if postgres:
        op.execute("LOCK TABLE contact, attempt IN SHARE MODE")
    op.execute(
        "INSERT INTO attempt_count (account, result, n, waits, wait_ms)"
        " SELECT account, COALESCE(result, ''), COUNT(*),"
        " COUNT(CASE WHEN rate_wait_ms > 0 THEN 1 END),"
        " COALESCE(SUM(CASE WHEN rate_wait_ms > 0 THEN rate_wait_ms END), 0)"
        " FROM attempt GROUP BY account, COALESCE(result, '')"
    )
    op.execute(
        "INSERT INTO contact_count (campaign_id, state, zone_key, outcome, n)"
        " SELECT campaign_id, state, zone_key, COALESCE(outcome, ''), COUNT(*) FROM contact"
        " GROUP BY campaign_id, state, zone_key, COALESCE(outcome, '')"
    )
    if not postgres:
        op.create_index("ix_contact_claim", "contact", _CLAIM_COLUMNS)
        op.drop_index("ix_contact_due", "contact")
        return
    with op.get_context().autocommit_block():
        op.create_index("ix_contact_claim", "contact", _CLAIM_COLUMNS, postgresql_concurrently=True)
        op.drop_index("ix_contact_due", "contact", postgresql_concurrently=True)


def downgrade() -> None:
    op.create_index("ix_contact_due", "contact", ["campaign_id", "state", "next_attempt_at"])
    op.drop_index("ix_contact_claim", "contact")
    op.drop_index("ix_contact_count_campaign", "contact_count")
    op.drop_table("contact_count")
    op.drop_table("attempt_count")
