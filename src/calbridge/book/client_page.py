"""A client's own page (issue 15): who a link is for, their upcoming sessions, and what
they may do with each: accept, decline, cancel (a late cancellation, fee and all, within
``[policies] cancel_deadline_hours``) or move to a free slot (book/client_moves.py).

Every action goes through the book functions the command line uses (planning.answer,
planning.cancel, outcomes.save, planning.edit, views.slots) and is one transaction: a
refusal raises ``LinkError`` and leaves nothing behind.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from calbridge.book import outcomes, planning, views
from calbridge.book.context import Book
from calbridge.book.offer_answers import LinkError
from calbridge.core.model import Actor, Session, Side, Status
from calbridge.core.outcomes import Outcome
from calbridge.core.readers import Reader, when
from calbridge.core.timeutil import add_months, month_of
from calbridge.core.tokens import BadToken, form_token, verify_client
from calbridge.errors import CalbridgeError, Refused
from calbridge.store import repo, repo_clientpage
from calbridge.store.tables_inbound import CounterRow

log = logging.getLogger(__name__)
MAX_LISTED = 50  # upcoming sessions on the page
SLOTS_SHOWN = 12  # free times per page of "another time"
PLAIN, LATE = "plain", "late"
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


@dataclass(frozen=True)
class Visitor:
    """Whom a genuine, current link belongs to; ``form`` is its forms' CSRF field."""

    client_id: str
    name: str
    email: str
    version: int
    form: str
    timezone: str | None = None  # their own; None: their coach's


@dataclass(frozen=True)
class Item:
    session_id: int
    coach_id: str
    coach: str
    when: str  # in the client's zone, naming it (``show_when``)
    short: str  # the same without the zone's name
    zone: str  # the zone's name, as ``when`` says it
    start: datetime
    status: str
    answer: str  # the client's PARTSTAT
    can_accept: bool
    can_cancel: bool  # also: can ask for another time (only the session's one client)
    asking: bool = False  # a time asked for waits for the coach (``page_move = "coach"``)
    request_note: str = ""  # what became of the newest time asked for, in the client's words


@dataclass(frozen=True)
class CancelTerms:
    item: Item
    kind: str  # PLAIN or LATE
    hours: float  # the policy's deadline (the session's service may set its own)
    fee: str | None  # what a late cancellation costs, e.g. "GBP 45.00"


def show_when(
    book: Book, v: Visitor, coach_id: str, start: datetime, end: datetime, named: bool = True
) -> str:
    """A time as the client reads it (``named``: with its zone, as mail says it): in
    their own timezone, else their coach's, and the text says which."""
    zone = ZoneInfo(v.timezone) if v.timezone else book.zone(coach_id)
    reader = Reader(v.name, v.email, zone, v.timezone is not None, v.client_id)
    text = when(start, end, reader)
    return text if named else text.rsplit(" (", 1)[0]


def zone_words(book: Book, v: Visitor, coach_id: str) -> str:
    """What ``show_when`` says of the zone: "Europe/London time, your coach's timezone"."""
    moment = book.clock()
    return show_when(book, v, coach_id, moment, moment).rsplit(" (", 1)[1].rstrip(")")


def visitor(book: Book, secret: bytes, client_id: str, token: str) -> Visitor:
    """The link's client; LinkError (403 forged, 410 revoked or gone) otherwise."""
    try:
        version = verify_client(secret, client_id, token)
    except BadToken:
        raise LinkError(
            403, "This link is not valid", "Please use the link exactly as it came in the email."
        ) from None
    with book.transaction() as db:
        row = repo_clientpage.link_client(db, client_id)
        if row is None or row.archived_at is not None or row.link_version != version:
            raise LinkError(
                410,
                "This link no longer works",
                "It was replaced by a newer one: please use the link in your latest email,"
                " or reply to it to reach your coach.",
            )
        form = form_token(secret, row.id, version)
        return Visitor(row.id, row.name, row.email, version, form, row.timezone)


def _request_note(book: Book, v: Visitor, session: Session, asked: CounterRow | None) -> str:
    """The newest time asked for on the page, as the client reads what became of it."""
    if asked is None:
        return ""
    said = show_when(book, v, session.coach_id, asked.start, asked.end)
    if asked.state == "open":
        return f"You asked to move it to {said}; waiting for your coach's answer."
    if asked.state == "declined":
        return f"Your coach could not move it to {said}: {asked.reason}."
    return "Moved to this time as you asked." if asked.state == "accepted" else ""


def _item(
    book: Book, session: Session, v: Visitor, now: datetime, asked: CounterRow | None = None
) -> Item:
    client_id = v.client_id
    mine = [p for p in session.participants if p.party_id == client_id]
    answer = mine[0].partstat if mine else "NEEDS-ACTION"
    waits_for_us = session.status is Status.REQUESTED and session.awaiting in (None, Side.CLIENT)
    unanswered = session.status is Status.SCHEDULED and answer != "ACCEPTED"
    sole = session.clients == [client_id]
    return Item(
        session.id or 0,
        session.coach_id,
        book.coach(session.coach_id).name,
        show_when(book, v, session.coach_id, session.start, session.end),
        show_when(book, v, session.coach_id, session.start, session.end, named=False),
        zone_words(book, v, session.coach_id),
        session.start,
        session.status.value,
        answer,
        (waits_for_us or unanswered) and session.start > now,
        sole and session.start > now,
        asked is not None and asked.state == "open",
        _request_note(book, v, session, asked),
    )


def upcoming(book: Book, v: Visitor) -> list[Item]:
    now = book.clock()
    with book.transaction() as db:
        rows = repo_clientpage.upcoming(db, v.client_id, now, MAX_LISTED)
        asked = repo_clientpage.requests_of(db, [r.id for r in rows])
        return [_item(book, repo.to_session(r), v, now, asked.get(r.id)) for r in rows]


def mine(book: Book, v: Visitor, session_id: int) -> tuple[Session, Item]:
    """The visitor's own open, not yet started session; LinkError 404 otherwise."""
    now = book.clock()
    with book.transaction() as db:
        for row in repo_clientpage.upcoming(db, v.client_id, now, MAX_LISTED):
            if row.id == session_id:
                session = repo.to_session(row)
                return session, _item(book, session, v, now)
    raise LinkError(
        404, "Session not found", "This session is not one of your upcoming sessions any more."
    )


_PLAIN_WORDS = {
    "monthly_limit": "Your program allows no more sessions in that month.",
    "unavailable": "Your coach is not available then.",
    "closure": "Your coach's practice is closed then.",
}


def refusal(exc: CalbridgeError, what: str) -> LinkError:
    """A rule's refusal in the client's words (the log keeps the book's)."""
    log.info("client page: %s refused: %s", what, exc)
    code = exc.code if isinstance(exc, Refused) else ""
    return LinkError(409, f"The session could not be {what}", _PLAIN_WORDS.get(code, str(exc)))


def answer(book: Book, v: Visitor, session_id: int, accept: bool) -> Session:
    _, item = mine(book, v, session_id)
    if accept and not item.can_accept:
        raise LinkError(409, "Nothing to accept", "This session needs no answer from you.")
    try:
        return planning.answer(book, session_id, Actor.CLIENT, accept, v.client_id)
    except CalbridgeError as exc:
        raise refusal(exc, "accepted" if accept else "declined") from None


def cancel_terms(book: Book, v: Visitor, session_id: int) -> CancelTerms:
    session, item = mine(book, v, session_id)
    if not item.can_cancel:
        raise LinkError(
            409,
            "Please decline instead",
            "This is a group session: decline it and the others keep theirs.",
        )
    hours = book.settings.policy(session.service).cancel_deadline_hours
    late = session.direct and session.start - book.clock() < timedelta(hours=hours)
    if not late:
        return CancelTerms(item, PLAIN, hours, None)
    try:
        (change,) = outcomes.save(
            book, outcomes.Selection(ids=[session_id]), _late(), outcomes.Mode.CANCEL, True
        )
    except CalbridgeError as exc:
        log.info("client page: no late-cancellation fee for session %s: %s", session_id, exc)
        raise LinkError(
            409,
            "Please contact your coach",
            "This session is too close to cancel here: reply to your last email to reach"
            " your coach.",
        ) from None
    cost = change.money.cost if change.money else None
    fee = f"{book.settings.outcomes.currency} {cost}" if cost is not None else None
    return CancelTerms(item, LATE, hours, fee)


def _late() -> outcomes.OutcomeRequest:
    reason = "cancelled late by the client on their page"
    return outcomes.OutcomeRequest(Outcome.LATE_CANCELLATION, reason=reason, by=Actor.CLIENT)


def cancel(book: Book, v: Visitor, session_id: int, agreed: str) -> CancelTerms:
    """Cancel as the terms the client saw (``agreed``): when they no longer hold (the
    deadline passed meanwhile) the new terms are raised for a second confirmation."""
    with book.transaction():
        terms = cancel_terms(book, v, session_id)
        if terms.kind != agreed:
            raise Changed(terms)
        reason = "cancelled by the client on their page"
        try:
            planning.cancel(
                book, session_id, Actor.CLIENT, reason if terms.kind == PLAIN else _late().reason
            )
            if terms.kind == LATE:
                outcomes.save(
                    book, outcomes.Selection(ids=[session_id]), _late(), outcomes.Mode.CANCEL
                )
        except CalbridgeError as exc:
            raise refusal(exc, "cancelled") from None
        return terms


class Changed(CalbridgeError):
    """The cancellation terms changed since the client saw them."""

    def __init__(self, terms: CancelTerms) -> None:
        super().__init__("the cancellation terms changed")
        self.terms = terms


def free_times(
    book: Book, v: Visitor, session_id: int, month: str | None, after: datetime | None
) -> tuple[Item, str, list[tuple[datetime, datetime]], bool]:
    """Times the session can move to (the ``slots`` command's finder: working hours,
    busy times, the monthly limit): (item, month, up to SLOTS_SHOWN slots, more?)."""
    session, item = mine(book, v, session_id)
    if not item.can_cancel:
        raise LinkError(409, "Please ask your coach", "A group session is moved by your coach.")
    zone = book.zone(session.coach_id)
    month = month or month_of(session.start, zone)
    now = month_of(book.clock(), zone)
    if not _MONTH.fullmatch(month) or not now <= month <= add_months(now, 12):
        raise LinkError(400, "No such month", "Please pick a month from the page.")
    try:
        found = views.slots(
            book, session.coach_id, v.client_id, month, session.end - session.start, moving=session
        )
    except CalbridgeError as exc:
        raise refusal(exc, "moved to that month") from None
    slots = [
        (datetime.fromisoformat(s["start"]), datetime.fromisoformat(s["end"]))
        for s in found["slots"]
    ]
    slots = [s for s in slots if s[0] != session.start and (after is None or s[0] > after)]
    return item, month, slots[:SLOTS_SHOWN], len(slots) > SLOTS_SHOWN
