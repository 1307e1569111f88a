"""Which channel a message takes: the person's choice (email, sms, both), their phone,
and their consent (STOP). Used by ``notify``, the offers' notices and the reminders.

What a text says comes from the text channel that the wiring installs (``text_hook``;
``sms.channel`` installs ``sms.texts``): mail imports nothing of ``sms``. None
installed: no texts, and everyone is mailed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from calbridge.mail.outbox import enqueue_text
from calbridge.mail.text_hook import Texts as Texts
from calbridge.mail.text_hook import install_texts as install_texts
from calbridge.mail.text_hook import texts as texts
from calbridge.store import repo_sms
from calbridge.store.db import Db
from calbridge.store.repo_sms import EMAIL_ONLY, Contact

if TYPE_CHECKING:
    from calbridge.events.context import BookContext
    from calbridge.mail.transport import Closing

#: How the outbox sender opens each channel's transport other than mail's own: the
#: text channel adds "sms" (``sms.channel``).
openers: dict[str, Callable[[BookContext], Closing]] = {}


def chosen(
    contacts: dict[str, Contact], party: str | None, coach_phone: str | None, coach_notify: str
) -> Contact:
    """A client's or third party's contact (``party``), or the coach's (None)."""
    if party is not None:
        return contacts.get(party, EMAIL_ONLY)
    return Contact(coach_phone, coach_notify) if coach_phone else EMAIL_ONLY


def text(
    db: Db,
    who: Contact,
    said: str | None,
    kind: str,
    now: datetime,
    session_id: int | None,
    expires_at: datetime | None,
) -> bool:
    """Queue ``said`` to ``who`` when they chose texts and did not opt out: True if so."""
    if said is None or not who.text or who.phone is None or repo_sms.opted_out(db, who.phone):
        return False
    domain = "calbridge.sms"  # ids only: texts carry no sender domain
    enqueue_text(
        db, who.phone, said, kind=kind, now=now, domain=domain,
        session_id=session_id, expires_at=expires_at,
    )  # fmt: skip
    return True
