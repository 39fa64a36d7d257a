"""Queue names, in one place."""

from enum import StrEnum


class Queue(StrEnum):
    DIAL = "dialer.dial"
    """place_call tasks: one per claimed contact."""
    SCHEDULE = "dialer.schedule"
    """the beat-driven tick (claim + reap) and outcome polling."""
