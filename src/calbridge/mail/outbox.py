"""Queue a message in the book's outbox, inside the caller's transaction.

The outbox has channels: ``mail`` (an RFC 5322 message to one address) and ``sms`` (a
text to one E.164 number). Both are claimed, sent, retried and given up by the same
sender (``mail.sender``), so each promise holds for both. A message is queued in the
same transaction as the book change that causes it, so a change is never committed
without its mail, nor mail sent for a change rolled back.
"""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import make_msgid
from uuid import uuid4

from calbridge.store.db import Db
from calbridge.store.repo_outbox import put


def enqueue(
    db: Db,
    message: EmailMessage,
    *,
    kind: str,
    now: datetime,
    domain: str,
    session_id: int | None = None,
    not_before: datetime | None = None,
    expires_at: datetime | None = None,
) -> str:
    """Store ``message`` for sending; returns its ``Message-ID`` (set here if absent).

    Each recipient gets its own row (one message per address), so a bounce or refusal
    for one never holds back the others. A message still unsent at ``expires_at`` is
    dropped (a reminder whose session began).
    """
    if message["Message-ID"] is None:
        message["Message-ID"] = make_msgid(domain=domain)
    recipients = [addr.addr_spec for addr in message["To"].addresses]
    if len(recipients) != 1:
        raise ValueError("an outbox message has exactly one To address")
    message_id = str(message["Message-ID"])
    raw = message.as_bytes(policy=SMTP)
    put(db, "mail", message_id, recipients[0], raw, kind, now, session_id, not_before, expires_at)
    return message_id


def enqueue_text(
    db: Db,
    phone: str,
    text: str,
    *,
    kind: str,
    now: datetime,
    domain: str,
    session_id: int | None = None,
    expires_at: datetime | None = None,
) -> str:
    """Store a text to ``phone`` (E.164); returns its id, fixed now like a Message-ID."""
    message_id = f"<sms.{uuid4().hex}@{domain}>"
    put(db, "sms", message_id, phone, text.encode("utf-8"), kind, now, session_id, None, expires_at)
    return message_id
