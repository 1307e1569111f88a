"""A person's phone and channel choice (email, sms, both), and their texts' consent."""

from __future__ import annotations

from typing import Any

from calbridge.book.context import Book
from calbridge.core.consent import STOP_WORDS, consent_word
from calbridge.core.phone import e164
from calbridge.errors import UserError
from calbridge.store import repo_sms
from calbridge.store.db import Db
from calbridge.store.repo_sms import NOTIFY, Contact


def checked(book: Book, current: Contact, phone: str | None, notify: str | None) -> Contact:
    """``current`` with the given changes, refused with what to fix when they don't fit.
    ``--phone ""`` removes the number."""
    number = current.phone
    if phone is not None:
        try:
            number = e164(phone, book.settings.sms.region) if phone.strip() else None
        except ValueError as exc:
            raise UserError(f"--phone: {exc}") from None
    choice = notify or current.notify
    if choice not in NOTIFY:
        raise UserError(f"--notify {choice!r}: use email, sms or both")
    if choice != "email" and number is None:
        raise UserError(f"--notify {choice} needs a phone number: add --phone +44...")
    return Contact(number, choice)


def save(db: Db, kind: str, party_id: str, contact: Contact) -> None:
    repo_sms.set_contact(db, kind, party_id, contact.phone, contact.notify)


def described(db: Db, kind: str, party_id: str) -> dict[str, Any]:
    """``phone``, ``notify`` and ``texts`` (allowed, or opted out since when) for show."""
    found = repo_sms.contact(db, kind, party_id)
    texts = "-"
    if found.phone is not None:
        consent = repo_sms.consent(db, found.phone)
        texts = "allowed"
        if consent is not None and consent.opted_out:
            texts = f"opted out ({consent.word} {consent.changed_at:%Y-%m-%d %H:%M} UTC)"
    return {"phone": found.phone or "", "notify": found.notify, "texts": texts}


def replied(book: Book, phone: str, text: str) -> str | None:
    """An inbound text: STOP (or a synonym) opts the number out, START back in.
    Returns the word recorded, None for any other reply (left to the practice)."""
    word = consent_word(text)
    if word is None:
        return None
    try:
        number = e164(phone, book.settings.sms.region)
    except ValueError:
        return None
    with book.transaction() as db:
        repo_sms.record_consent(db, number, word in STOP_WORDS, word, book.clock())
    return word


def delivered(book: Book, status: str, provider_id: str, message_id: str) -> bool:
    """A delivery status callback for one of our texts (by our id or the provider's)."""
    with book.transaction() as db:
        return repo_sms.record_status(db, status, provider_id, message_id)
