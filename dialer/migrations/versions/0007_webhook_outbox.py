"""webhook outbox: subscriptions, events (one per endpoint), delivery counters

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 12:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "webhook_subscription",
        sa.Column("endpoint", sa.String(length=100), nullable=False),
        sa.Column("event_type", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("endpoint", "event_type"),
    )
    op.create_table(
        "webhook_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("endpoint", sa.String(length=100), nullable=False),
        sa.Column("message_id", sa.String(length=100), nullable=False),
        sa.Column("event_type", sa.String(length=40), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("attempt_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("next_try_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("first_tried_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_tried_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "uq_webhook_event_message", "webhook_event", ["endpoint", "message_id"], unique=True
    )
    op.create_index("ix_webhook_event_due", "webhook_event", ["state", "endpoint", "next_try_at"])
    op.create_index("ix_webhook_event_age", "webhook_event", ["state", "occurred_at"])
    op.create_table(
        "webhook_counter",
        sa.Column("endpoint", sa.String(length=100), nullable=False),
        sa.Column("result", sa.String(length=20), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("endpoint", "result"),
    )


def downgrade() -> None:
    op.drop_table("webhook_counter")
    op.drop_index("ix_webhook_event_age", table_name="webhook_event")
    op.drop_index("ix_webhook_event_due", table_name="webhook_event")
    op.drop_index("uq_webhook_event_message", table_name="webhook_event")
    op.drop_table("webhook_event")
    op.drop_table("webhook_subscription")
