"""Queue a message in the book's outbox, inside the caller's transaction.

A message is queued in the same transaction as the book change that causes it, so a
change is never committed without its mail, nor mail sent for a change rolled back.
"""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import make_msgid

from sqlalchemy.orm import Session as Db

from calbridge.store.tables import OutboxRow


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
    db.add(
        OutboxRow(
            message_id=message_id,
            kind=kind,
            session_id=session_id,
            recipient=recipients[0],
            created_at=now,
            not_before=not_before or now,
            state="queued",
            attempts=0,
            raw=message.as_bytes(policy=SMTP),
            expires_at=expires_at,
        )
    )
    return message_id
