"""Clients and third parties: they live in the database, not in TOML."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from calbridge.book import contacts
from calbridge.book.context import Book
from calbridge.config.base import check_timezone
from calbridge.core.model import Actor, Client, ThirdParty
from calbridge.errors import NotFound, Refused, UserError
from calbridge.store import repo, repo_sms
from calbridge.store.db import Db
from calbridge.store.tables import ClientRow, ThirdPartyRow

_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


# Letters NFKD does not split into a base letter and an accent.
_UNSPLIT = str.maketrans({"ß": "ss", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "ł": "l", "Ł": "L"})


def _slug(name: str) -> str:
    """ "Cara Müller" -> cara-muller: accents folded (NFKD), the rest of the name kept."""
    folded = unicodedata.normalize("NFKD", name.translate(_UNSPLIT))
    ascii_ = folded.encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_.lower()).strip("-")[:48] or "party"


def _check(party_id: str, name: str, email: str) -> None:
    if not _ID.match(party_id):
        raise UserError(f"--id {party_id!r}: use letters, digits, '.', '_' or '-' (at most 64)")
    if not name.strip() or "\n" in name or "\r" in name:
        raise UserError("--name must be one non-empty line")
    if not _EMAIL.match(email):
        raise UserError(f"--email {email!r} is not an email address")


def zone_name(value: str | None) -> str | None:
    """``--timezone``: an IANA name checked with zoneinfo; "" means the coach's (None)."""
    if not value:
        return None
    try:
        return check_timezone(value.strip())
    except ValueError as error:
        raise UserError(f"--timezone: {error}") from None


def _free_id(book: Book, table: type[ClientRow] | type[ThirdPartyRow], name: str) -> str:
    base = _slug(name)
    with book.transaction() as db:
        candidate, n = base, 1
        while db.get(table, candidate) is not None:
            n += 1
            candidate = f"{base}-{n}"
        return candidate


def add_client(
    book: Book,
    name: str,
    email: str,
    program: str,
    party_id: str | None,
    phone: str | None = None,
    notify: str | None = None,
    timezone: str | None = None,
) -> Client:
    book.settings.program(program)
    party_id = party_id or _free_id(book, ClientRow, name)
    _check(party_id, name, email)
    zone = zone_name(timezone)
    channel = contacts.checked(book, repo_sms.EMAIL_ONLY, phone, notify)
    with book.transaction() as db:
        if db.get(ClientRow, party_id) is not None:
            raise Refused("exists", f"client {party_id!r} already exists; pick another --id")
        now = book.clock()
        db.add(
            ClientRow(
                id=party_id, name=name, email=email, program=program, created_at=now,
                timezone=zone,
            )
        )  # fmt: skip
        fields = {"name": name, "email": email, "program": program, "timezone": zone}
        if phone is not None or notify is not None:
            contacts.save(db, "client", party_id, channel)
            fields |= {"phone": channel.phone or "", "notify": channel.notify}
        repo.audit(db, now, "client", party_id, "added", Actor.ADMIN, book.origin, fields)
    return Client(party_id, name, email, program, zone)


def _apply(
    book: Book,
    db: Db,
    row: ClientRow | ThirdPartyRow,
    kind: str,
    wanted: dict[str, Any],
    phone: str | None,
    notify: str | None,
) -> dict[str, Any]:
    """Write ``wanted`` (and a new phone or channel) on ``row``; returns the old values
    and adds the new channel to ``wanted``, for the audit trail."""
    before = {k: getattr(row, k) for k in wanted}
    for key, value in wanted.items():
        setattr(row, key, value)
    if phone is not None or notify is not None:
        was = repo_sms.contact(db, kind, row.id)
        channel = contacts.checked(book, was, phone, notify)
        contacts.save(db, kind, row.id, channel)
        before |= {"phone": was.phone or "", "notify": was.notify}
        wanted |= {"phone": channel.phone or "", "notify": channel.notify}
    return before


def _wanted(changes: dict[str, str | None]) -> dict[str, Any]:
    """The given changes; ``timezone`` checked ("" back to the coach's: None)."""
    wanted: dict[str, Any] = {k: v for k, v in changes.items() if v is not None}
    if "timezone" in wanted:
        wanted["timezone"] = zone_name(wanted["timezone"])
    return wanted


def edit_client(book: Book, party_id: str, **changes: str | None) -> Client:
    phone, notify = changes.pop("phone", None), changes.pop("notify", None)
    wanted = _wanted(changes)
    if "program" in wanted:
        book.settings.program(wanted["program"])
    with book.transaction() as db:
        current = repo.client(db, party_id)
        merged = {"name": current.name, "email": current.email, "program": current.program}
        merged.update(wanted)
        _check(party_id, merged["name"], merged["email"])
        row = db.get(ClientRow, party_id)
        assert row is not None
        before = _apply(book, db, row, "client", wanted, phone, notify)
        repo.audit(
            db,
            book.clock(),
            "client",
            party_id,
            "edited",
            Actor.ADMIN,
            book.origin,
            {"before": before, "after": wanted},
        )
        return Client(party_id, row.name, row.email, row.program, row.timezone)


def add_third_party(
    book: Book,
    name: str,
    email: str,
    party_id: str | None,
    phone: str | None = None,
    notify: str | None = None,
    timezone: str | None = None,
) -> ThirdParty:
    party_id = party_id or _free_id(book, ThirdPartyRow, name)
    _check(party_id, name, email)
    zone = zone_name(timezone)
    channel = contacts.checked(book, repo_sms.EMAIL_ONLY, phone, notify)
    with book.transaction() as db:
        if db.get(ThirdPartyRow, party_id) is not None:
            raise Refused("exists", f"third party {party_id!r} already exists; pick another --id")
        now = book.clock()
        db.add(ThirdPartyRow(id=party_id, name=name, email=email, created_at=now, timezone=zone))
        if phone is not None or notify is not None:
            contacts.save(db, "third-party", party_id, channel)
        repo.audit(
            db,
            now,
            "third-party",
            party_id,
            "added",
            Actor.ADMIN,
            book.origin,
            {"name": name, "email": email, "timezone": zone},
        )
    return ThirdParty(party_id, name, email, zone)


def edit_third_party(book: Book, party_id: str, **changes: str | None) -> ThirdParty:
    phone, notify = changes.pop("phone", None), changes.pop("notify", None)
    wanted = _wanted(changes)
    with book.transaction() as db:
        row = db.get(ThirdPartyRow, party_id)
        if row is None:
            raise NotFound(f"unknown third party {party_id!r} (see `calbridge third-party list`)")
        _check(party_id, wanted.get("name", row.name), wanted.get("email", row.email))
        before = _apply(book, db, row, "third-party", wanted, phone, notify)
        changes_ = {"before": before, "after": wanted}
        repo.audit(
            db, book.clock(), "third-party", party_id, "edited", Actor.ADMIN, book.origin, changes_
        )
        return ThirdParty(party_id, row.name, row.email, row.timezone)
