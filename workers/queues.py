"""Queue names, in one place."""

from enum import StrEnum


class Queue(StrEnum):
    DIAL = "dialer.dial"
    """place_calls tasks: one per dispatch batch of claimed contacts."""
    SCHEDULE = "dialer.schedule"
    """the beat-driven tick (claim + reap) and outcome polling."""
    WEBHOOKS = "dialer.webhooks"
    """deliver_webhooks: sending the outbox, apart from dialing and ticks."""
