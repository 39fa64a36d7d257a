"""The SQL of the status reads (:mod:`dialer.ledger.statements`) compiled for each database,
kept here so that :mod:`dialer.ledger.plainread` runs them without importing SQLAlchemy.

Generated: ``tests/unit/test_status_sql.py`` holds :data:`STORED` equal to what
:func:`dialer.ledger.statements.compiled` gives; after changing a statement, paste what
``python -c "from dialer.ledger import statements; print(statements.stored_source())"``
prints in place of :data:`STORED`.
"""

from __future__ import annotations

from typing import Any, NamedTuple


class Stored(NamedTuple):
    """One statement as one database runs it."""

    sql: str
    """Its text, with named parameters in the driver's style (``:name``, ``%(name)s``)."""
    fixed: dict[str, Any]
    """The parameters the statement carries itself (a LIMIT's, an OFFSET's)."""
    kinds: tuple[str, ...]
    """Per column read: "instant", "json", "bool", or "" (the driver's value kept)."""


STORED: dict[str, dict[str, Stored]] = {
    "sqlite": {
        "campaign": Stored(
            "SELECT campaign.id, campaign.name, campaign.account, campaign.status, "
            "campaign.status_reason, campaign.window, campaign.days, campaign.timezone, "
            "campaign.start_at, campaign.end_at, campaign.source_file, campaign.rows_read, "
            "campaign.rows_accepted, campaign.rows_rejected, campaign.accounts, "
            "campaign.failover, campaign.reassigned, campaign.max_attempts, "
            "campaign.retry_after_seconds, campaign.recall_rules, campaign.claim_order \nFROM "
            "campaign \nWHERE campaign.name = :name",
            {},
            (
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "instant",
                "instant",
                "",
                "",
                "",
                "",
                "json",
                "bool",
                "",
                "",
                "",
                "json",
                "",
            ),
        ),
        "counts": Stored(
            "SELECT contact_count.campaign_id, contact_count.state, contact_count.zone_key, "
            "contact_count.outcome, sum(contact_count.n) AS sum_1 \nFROM contact_count \nWHERE "
            "contact_count.campaign_id = :campaign_id GROUP BY contact_count.campaign_id, "
            "contact_count.state, contact_count.zone_key, contact_count.outcome",
            {},
            ("", "", "", "", ""),
        ),
        "recent_calls": Stored(
            "SELECT attempt.started_at, attempt.outcome_at \nFROM attempt \nWHERE "
            "attempt.account = :account AND attempt.outcome_at IS NOT NULL ORDER BY "
            "attempt.id DESC\n LIMIT :sample OFFSET :param_1",
            {"param_1": 0},
            ("instant", "instant"),
        ),
        "next_due": Stored(
            "SELECT contact.next_attempt_at \nFROM contact \nWHERE contact.campaign_id = "
            ":campaign_id AND contact.state = :state AND contact.zone_key = :zone_key AND "
            "contact.next_attempt_at IS NOT NULL ORDER BY contact.next_attempt_at\n LIMIT "
            ":param_1 OFFSET :param_2",
            {"param_1": 1, "param_2": 0},
            ("instant",),
        ),
    },
    "postgresql": {
        "campaign": Stored(
            "SELECT campaign.id, campaign.name, campaign.account, campaign.status, "
            'campaign.status_reason, campaign."window", campaign.days, campaign.timezone, '
            "campaign.start_at, campaign.end_at, campaign.source_file, campaign.rows_read, "
            "campaign.rows_accepted, campaign.rows_rejected, campaign.accounts, "
            "campaign.failover, campaign.reassigned, campaign.max_attempts, "
            "campaign.retry_after_seconds, campaign.recall_rules, campaign.claim_order \nFROM "
            "campaign \nWHERE campaign.name = %(name)s::VARCHAR",
            {},
            (
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "instant",
                "instant",
                "",
                "",
                "",
                "",
                "json",
                "bool",
                "",
                "",
                "",
                "json",
                "",
            ),
        ),
        "counts": Stored(
            "SELECT contact_count.campaign_id, contact_count.state, contact_count.zone_key, "
            "contact_count.outcome, sum(contact_count.n) AS sum_1 \nFROM contact_count \nWHERE "
            "contact_count.campaign_id = %(campaign_id)s::INTEGER GROUP BY "
            "contact_count.campaign_id, contact_count.state, contact_count.zone_key, "
            "contact_count.outcome",
            {},
            ("", "", "", "", ""),
        ),
        "recent_calls": Stored(
            "SELECT attempt.started_at, attempt.outcome_at \nFROM attempt \nWHERE "
            "attempt.account = %(account)s::VARCHAR AND attempt.outcome_at IS NOT NULL ORDER "
            "BY attempt.id DESC \n LIMIT %(sample)s",
            {},
            ("instant", "instant"),
        ),
        "next_due": Stored(
            "SELECT contact.next_attempt_at \nFROM contact \nWHERE contact.campaign_id = "
            "%(campaign_id)s::INTEGER AND contact.state = %(state)s::VARCHAR AND "
            "contact.zone_key = %(zone_key)s::VARCHAR AND contact.next_attempt_at IS NOT NULL "
            "ORDER BY contact.next_attempt_at \n LIMIT %(param_1)s::INTEGER",
            {"param_1": 1},
            ("instant",),
        ),
    },
}
