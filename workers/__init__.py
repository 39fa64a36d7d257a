"""The Celery side: ``celery -A workers worker|beat|flower``. Thin tasks over :mod:`dialer`."""

from workers.application import app

__all__ = ["app"]
