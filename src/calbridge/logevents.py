"""Structured log events: a stable event name and its fields (service/logs.py renders
them as JSON lines or text). Any layer may log one; this module imports nothing."""

from __future__ import annotations

import logging
from typing import Any

#: The LogRecord attribute that carries an event's fields.
FIELDS = "fields"


def event(log: logging.Logger, level: int, name: str, /, **fields: Any) -> None:
    """Log the event ``name`` with its fields (stable keys, values rendered as text)."""
    if log.isEnabledFor(level):
        log.log(level, name, extra={FIELDS: fields})
