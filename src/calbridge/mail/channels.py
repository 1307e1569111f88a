"""Which channel a message takes: the person's choice (email, sms, both), their phone,
and their consent (STOP). Used by ``notify``, the offers' notices and the reminders.

What a text says comes from the text channel that the wiring installs (``sms.channel``
installs ``sms.texts``): mail imports nothing of ``sms``. None installed: no texts, and
everyone is mailed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, cast

from calbridge.mail.bodies import About, Reader
from calbridge.mail.outbox import enqueue_text
from calbridge.store import repo_sms
from calbridge.store.db import Db
from calbridge.store.repo_sms import EMAIL_ONLY, Contact

if TYPE_CHECKING:
    from calbridge.book.context import Book
    from calbridge.mail.transport import Closing

#: How the outbox sender opens each channel's transport other than mail's own: the
#: text channel adds "sms" (``sms.channel``).
openers: dict[str, Callable[[Book], Closing]] = {}


class Texts(Protocol):
    """The texts a channel sends, one per notice; None: this one has no text."""

    def reminder(self, about: About, reader: Reader, link: str | None = None) -> str | None: ...

    def cancelled(
        self, about: About, reader: Reader, reason: str | None, following: bool,
        link: str | None = None,
    ) -> str | None: ...  # fmt: skip

    def moved(
        self, about: About, reader: Reader, was: datetime, link: str | None = None
    ) -> str | None: ...

    def declined(self, about: About, reader: Reader, who: str) -> str | None: ...

    def closure(
        self, about: About, reader: Reader, first: str, last: str, reason: str
    ) -> str | None: ...

    def reverted(self, about: About, reader: Reader, session_id: int) -> str | None: ...

    def offer(
        self, coach: str, choices: list[tuple[datetime, str]], reader: Reader
    ) -> str | None: ...

    def waitlist_offer(
        self, coach: str, start: datetime, url: str, reader: Reader
    ) -> str | None: ...

    def waitlist_gone(
        self, coach: str, start: datetime, reader: Reader, reason: str = ""
    ) -> str | None: ...

    def offer_cancelled(self, coach: str, starts: list[datetime], reader: Reader) -> str | None: ...


class NoTexts:
    """No text channel installed: nothing is texted."""

    def reminder(self, about: About, reader: Reader, link: str | None = None) -> None:
        return None

    def cancelled(
        self, about: About, reader: Reader, reason: str | None, following: bool,
        link: str | None = None,
    ) -> None:  # fmt: skip
        return None

    def moved(self, about: About, reader: Reader, was: datetime, link: str | None = None) -> None:
        return None

    def declined(self, about: About, reader: Reader, who: str) -> None:
        return None

    def closure(self, about: About, reader: Reader, first: str, last: str, reason: str) -> None:
        return None

    def reverted(self, about: About, reader: Reader, session_id: int) -> None:
        return None

    def offer(self, coach: str, choices: list[tuple[datetime, str]], reader: Reader) -> None:
        return None

    def waitlist_offer(self, coach: str, start: datetime, url: str, reader: Reader) -> None:
        return None

    def waitlist_gone(self, coach: str, start: datetime, reader: Reader, reason: str = "") -> None:
        return None

    def offer_cancelled(self, coach: str, starts: list[datetime], reader: Reader) -> None:
        return None


_texts: list[Texts] = [NoTexts()]


def install_texts(made: Texts) -> None:
    """The text channel: what each notice says by text (``sms.texts``)."""
    _texts[0] = made


class _Installed:
    """The text channel installed at the time of each call."""

    def __getattr__(self, name: str) -> Any:
        return getattr(_texts[0], name)


#: What each notice says by text, as the installed channel words it (none: no texts).
texts = cast("Texts", _Installed())


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
