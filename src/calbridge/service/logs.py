"""One line per event with stable keys: ``key=value`` for people, JSON for machines.

``event(log, "sync.done", calendar="maia", actions=0)`` logs the event name with its fields.
Records from other modules (plain messages) become ``event=log`` with ``msg=``.
Under journald (``$JOURNAL_STREAM`` set) lines carry a ``<N>`` syslog priority prefix, so
``journalctl -p warning`` works, and no timestamp (the journal adds its own).

Secrets never reach the output: every configured password, token and secret-file content is
replaced by ``***`` in the finished line, and so are URL credentials, Authorization headers
and signed-link query parameters, whatever the level and whichever module logged.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

from calbridge.config.schema import DavSettings, Settings, read_secret
from calbridge.logevents import FIELDS

MASK = "***"
_PRIORITY = {"DEBUG": 7, "INFO": 6, "WARNING": 4, "ERROR": 3, "CRITICAL": 2}
_PATTERNS = (
    # user:password@ in URLs
    re.compile(r"(?P<keep>\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)[^@\s/]+(?=@)", re.I),
    # Authorization headers and bearer tokens
    re.compile(
        r"(?P<keep>\bauthorization[\"']?\s*[:=]\s*[\"']?(?:(?:basic|bearer)\s+)?)[^\s,'\"]+",
        re.I,
    ),
    re.compile(r"(?P<keep>\bbearer\s+)[A-Za-z0-9._~+/=-]{8,}", re.I),
    # signed links and token-like query parameters
    re.compile(
        r"(?P<keep>[?&](?:token|sig|signature|key|secret|password|access_token|"
        r"refresh_token|code)=)[^&\s\"']+",
        re.I,
    ),
)
_NOTFIELDS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", FIELDS}


def secrets_of(settings: Settings) -> set[str]:
    """Every secret value the configuration can hand to calbridge."""
    found: set[str | None] = {settings.mail.secret()}
    cals: list[DavSettings] = []
    for coach in settings.coaches:
        cals += [coach.calendar] if coach.calendar else []
        cals += coach.busy
    for cal in cals:
        found |= {cal.secret(), cal.bearer()}
        found |= {
            read_secret(None, p)
            for p in (cal.oauth_client_secret_file, cal.oauth_refresh_token_file)
        }
    return {s for s in found if s and len(s) >= 4}


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets = sorted(set(secrets), key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        for pattern in _PATTERNS:
            text = pattern.sub(_keep_and_mask, text)
        return text


def _keep_and_mask(match: re.Match[str]) -> str:
    return match.group("keep") + MASK


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    fields = dict(getattr(record, FIELDS, None) or {})
    for key, value in record.__dict__.items():  # extra={...} from other modules
        if key not in _NOTFIELDS and not key.startswith("_"):
            fields.setdefault(key, value)
    return fields


def _event_and_fields(record: logging.LogRecord) -> tuple[str, dict[str, Any]]:
    if hasattr(record, FIELDS):
        return record.msg if isinstance(record.msg, str) else "log", _fields(record)
    return "log", {"logger": record.name, "msg": record.getMessage(), **_fields(record)}


def _text(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    if text == "" or re.search(r"[\s\"=]", text):
        return json.dumps(text)
    return text


class EventFormatter(logging.Formatter):
    def __init__(self, redactor: Redactor, as_json: bool, journal: bool) -> None:
        super().__init__()
        self.redactor, self.as_json, self.journal = redactor, as_json, journal

    def format(self, record: logging.LogRecord) -> str:
        name, fields = _event_and_fields(record)
        if record.exc_info:
            fields["exc"] = self.formatException(record.exc_info)
        level = record.levelname.lower()
        stamp = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="microseconds")
        if self.as_json:
            line = json.dumps({"ts": stamp, "level": level, "event": name, **fields}, default=str)
        else:
            parts = [f"level={level}", f"event={name}"]
            parts += [f"{k}={_text(v)}" for k, v in fields.items()]
            line = " ".join(parts) if self.journal else f"{stamp} " + " ".join(parts)
        line = self.redactor(line)
        if self.journal:
            line = f"<{_PRIORITY.get(record.levelname, 6)}>{line}"
        return line


_handler: list[logging.Handler] = []


def configure(level: str, as_json: bool, redactor: Redactor, stream: TextIO | None = None) -> None:
    """(Re)configure the root logger: one handler, calbridge at ``level``, libraries quieter."""
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(EventFormatter(redactor, as_json, bool(os.environ.get("JOURNAL_STREAM"))))
    root.addHandler(handler)
    numeric = getattr(logging, level.upper())
    root.setLevel(numeric)
    # Libraries log per request at INFO/DEBUG; show them only when debugging.
    for noisy in ("aiohttp.access", "alembic"):
        logging.getLogger(noisy).setLevel(numeric if numeric <= logging.DEBUG else logging.WARNING)
    _handler[:] = [handler]
