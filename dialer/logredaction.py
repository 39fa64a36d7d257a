"""No secret in any log line: every log record is masked by :func:`dialer.redaction.redact`
as it is made.

:func:`install` wraps the process's log record factory once, so the masking reaches every
logger and every handler — the dialer's own, uvicorn's access and error logs, Celery's, and
handlers configured after it ran (uvicorn and Celery configure theirs when they start). A filter
on each handler would miss the handlers someone adds later. The record's arguments are masked
one by one, keeping their shape (uvicorn's access formatter unpacks them); an exception's
traceback is formatted and masked up front.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from dialer.redaction import redact, remember_settings
from dialer.settings import Settings

_lock = threading.Lock()
_installed = False
_formatter = logging.Formatter()


def install(settings: Settings | None = None) -> None:
    """Mask every log record of this process from now on, ``settings``' secrets included.
    Safe to call again (each call only adds the secrets it is given)."""
    global _installed
    if settings is not None:
        remember_settings(settings)
    with _lock:
        if _installed:
            return
        logging.setLogRecordFactory(_masking(logging.getLogRecordFactory()))
        _installed = True


def _masking(make: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        mask_record(record)
        return record

    return factory


def mask_record(record: logging.LogRecord) -> None:
    """Mask ``record``'s message, arguments, traceback and stack in place."""
    if isinstance(record.msg, str):
        record.msg = redact(record.msg)
    if isinstance(record.args, tuple):
        record.args = tuple(_mask_value(value) for value in record.args)
    elif isinstance(record.args, dict):
        record.args = {key: _mask_value(value) for key, value in record.args.items()}
    if record.exc_info and not record.exc_text:
        record.exc_text = redact(_formatter.formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


def _mask_value(value: object) -> object:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, int | float | bool) or value is None:
        return value
    # Anything else is formatted with %s or %r later: mask what that would print.
    text = str(value)
    masked = redact(text)
    return value if masked == text else masked
