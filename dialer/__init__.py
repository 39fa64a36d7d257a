"""dialer: a bulk campaign dialer for AI voice agents. This package is the core (no Celery)."""

__version__ = "0.1.0"
