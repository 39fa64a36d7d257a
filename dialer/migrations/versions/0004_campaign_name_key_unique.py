"""campaign.name_key: names unique without regard to case (``Spring`` and ``spring`` clash)

``name_key`` is the name NFKC-normalised and casefolded (dialer.names.name_key), under a
unique index: a stored column rather than an index on lower(name), because SQLite's lower()
folds ASCII only and SQLite cannot reflect an expression index. Existing rows get their key
here; if two existing names differ only in case, the upgrade fails and says which.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 13:40:00
"""

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE (SQLite can add a column): a batch copy of the table would trip
    # the foreign keys of contact and attempt.
    op.add_column(
        "campaign", sa.Column("name_key", sa.String(200), nullable=False, server_default="")
    )
    connection = op.get_bind()
    keys: dict[str, str] = {}
    for campaign_id, name in connection.execute(sa.text("SELECT id, name FROM campaign")):
        key = unicodedata.normalize("NFKC", name).strip().casefold()
        if key in keys:
            raise RuntimeError(f"campaigns {keys[key]!r} and {name!r} differ only in case")
        keys[key] = name
        connection.execute(
            sa.text("UPDATE campaign SET name_key = :key WHERE id = :id"),
            {"key": key, "id": campaign_id},
        )
    op.create_index("uq_campaign_name_key", "campaign", ["name_key"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_campaign_name_key", table_name="campaign")
    op.drop_column("campaign", "name_key")
