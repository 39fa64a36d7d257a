"""contact: (campaign_id, phone) unique as an index, not a table constraint; no index on phone

SQLite keeps a UNIQUE table constraint's index for good (it cannot be dropped without
rebuilding the table); as a named unique index, a large import can drop it and build it
again inside its own transaction (see dialer.ledger.contacts.bulk_load). Same guarantee.

ix_contact_phone served no query: every lookup of a contact by number names its campaign
(the unique index serves those), and the cross-campaign checks (frequency cap, do-not-call)
read attempt and suppression. It cost every import a random insert per contact.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 12:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contact") as batch:
        batch.drop_constraint("uq_contact_campaign_phone", type_="unique")
    with op.batch_alter_table("contact") as batch:
        batch.create_index("uq_contact_campaign_phone", ["campaign_id", "phone"], unique=True)
        batch.drop_index("ix_contact_phone")


def downgrade() -> None:
    with op.batch_alter_table("contact") as batch:
        batch.drop_index("uq_contact_campaign_phone")
        batch.create_index("ix_contact_phone", ["phone"], unique=False)
    with op.batch_alter_table("contact") as batch:
        batch.create_unique_constraint("uq_contact_campaign_phone", ["campaign_id", "phone"])
