"""Offering alternative times (PRODUCT rule 4): hold them, mail the client one link per
time, and act on the one link the client uses, each step in one transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from calbridge.book import booking, checks
from calbridge.book.context import Book
from calbridge.config.schema import Coach, Settings
from calbridge.config.secret import load_secret
from calbridge.core import limits
from calbridge.core.model import CLIENT_KINDS, Actor, Role, Session, Status
from calbridge.core.timeutil import month_of, show
from calbridge.core.tokens import REJECT, sign_offer
from calbridge.errors import Refused, UserError
from calbridge.events import changes
from calbridge.events.spec import HOLD_PREFIX
from calbridge.store import repo, repo_offers
from calbridge.store.db import Db, lock
from calbridge.store.tables_offers import HoldRow, OfferRow

MAX_TIMES = 20


@dataclass
class Offered:
    offer_id: int
    session_id: int
    deadline: datetime
    holds: list[dict[str, str]]
    links: dict[str, str]
    message_id: str
    state: str = "open"


def offer_url(settings: Settings, token: str) -> str:
    return f"{settings.http.public_url.rstrip('/')}/offer/{token}"


def links(
    settings: Settings, secret: bytes, offer_id: int, count: int, deadline: datetime
) -> dict[str, str]:
    choices = [str(n) for n in range(1, count + 1)] + [REJECT]
    return {c: offer_url(settings, sign_offer(secret, offer_id, c, deadline)) for c in choices}


def _offerable(session: Session) -> str:
    """The one client the offer goes to; refuses sessions an offer cannot help."""
    if session.kind not in CLIENT_KINDS:
        raise Refused(
            "not_offerable",
            f"session {session.id} is a {session.kind} event: no client to offer times to",
        )
    if session.status not in (Status.REQUESTED, Status.SCHEDULED):
        raise Refused(
            "not_open",
            f"session {session.id} is {session.status}; it cannot be offered other times",
        )
    clients = session.clients
    if len(clients) != 1:
        raise UserError(
            f"session {session.id} is a group session: offers go to one client;"
            " move it with `session edit`"
        )
    return clients[0]


def _check_times(times: Sequence[datetime], now: datetime) -> list[datetime]:
    if not times:
        raise UserError("give at least one --at TIME")
    if len(times) > MAX_TIMES:
        raise UserError(f"offer at most {MAX_TIMES} times (--at given {len(times)} times)")
    if len(set(times)) != len(times):
        raise UserError("the same --at time is given twice")
    past = [t for t in times if t <= now]
    if past:
        raise UserError(f"--at {past[0].isoformat()} is in the past; offer future times")
    return sorted(times)


def make_offer(
    book: Book,
    session_id: int,
    times: Sequence[datetime],
    hold_hours: float | None = None,
    override_availability: bool = False,
) -> Offered:
    """Hold each time, store the offer and queue its email: all or nothing."""
    hours = book.settings.offers.hold_hours if hold_hours is None else hold_hours
    if not 0 < hours <= 24 * 14:
        raise UserError("--hold-hours must be more than 0 and at most 336 (two weeks)")
    load_secret(book.settings)  # a missing or unreadable secret fails before any write
    with book.transaction() as db:
        row = repo.session_row(db, session_id)
        parties = [p.party_id for p in row.participants if p.role == Role.CLIENT.value]
        lock(db, [f"coach:{row.coach_id}"] + [f"client:{c}" for c in parties])
        session = repo.to_session(row)
        now = book.clock()
        client = repo.client(db, _offerable(session))
        checks.not_archived(db, [client.id])
        ordered = _check_times(times, now)
        found = repo_offers.open_offer(db, session_id)
        if found is not None and found.deadline <= now:  # due, not yet expired by a pass
            close(book, db, found, now, "expired")
        elif found is not None:
            raise Refused(
                "offer_open",
                f"session {session_id} already has offer #{found.id} open until"
                f" {found.deadline.isoformat()}; wait for its answer or its expiry",
                offer=found.id,
            )
        coach = book.coach(session.coach_id)
        zone = coach.zone()
        length = session.end - session.start
        for start in ordered:
            span = [(start, start + length)]
            checks.availability(book, db, coach, span, override_availability, ignore=[session_id])
            booking.check(
                book, db, coach, span, session.kind, session.service, override_availability,
                [session_id],
            )  # fmt: skip
            place = limits.Placement(
                month_of(start, zone), start, session_id, month_of(session.start, zone)
            )
            checks.monthly_limits(book, db, coach, [client], [place])
        offer, urls = hold_offer(
            book, db, coach, client.id, [(t, t + length) for t in ordered], now, hours,
            session_id=session_id,
        )  # fmt: skip
        deadline = offer.deadline
        offer.message_id = book.emit(db, changes.Offered(offer, session, client, urls))[0]
        held = [h.id for h in offer.holds]
        times_text = [show(h.start, zone) for h in offer.holds]
        repo.audit(
            db,
            now,
            "session",
            session_id,
            "offered",
            Actor.ADMIN,
            book.origin,
            {"offer": offer.id, "times": times_text, "deadline": deadline.isoformat()},
        )
        repo.record_change(db, now, "offer.created", session_id, {"offer": offer.id, "holds": held})
        return Offered(
            offer.id,
            session_id,
            deadline,
            [
                {
                    "choice": str(h.position),
                    "uid": h.uid,
                    "start": h.start.astimezone(zone).isoformat(),
                    "end": h.end.astimezone(zone).isoformat(),
                }
                for h in offer.holds
            ],
            urls,
            offer.message_id,
        )


def hold_offer(
    book: Book,
    db: Db,
    coach: Coach,
    client_id: str,
    spans: Sequence[tuple[datetime, datetime]],
    now: datetime,
    hours: float,
    session_id: int | None = None,
    waitlist_id: int | None = None,
) -> tuple[OfferRow, dict[str, str]]:
    """Store an open offer holding each span (a tentative event each, on the next sync)
    and sign its links; the caller queues the message it needs. Used by `session offer`
    and by the waitlist."""
    deadline = (now + timedelta(hours=hours)).replace(microsecond=0)
    offer = OfferRow(
        session_id=session_id,
        waitlist_id=waitlist_id,
        coach_id=coach.id,
        client_id=client_id,
        created_at=now,
        deadline=deadline,
        state=repo_offers.OPEN,
    )
    offer.holds = [
        HoldRow(
            position=n,
            uid=f"{HOLD_PREFIX}{uuid.uuid4()}",
            session_id=session_id,
            coach_id=coach.id,
            tzid=coach.timezone,
            start=start,
            end=end,
            until=deadline,
        )
        for n, (start, end) in enumerate(spans, 1)
    ]
    db.add(offer)
    db.flush()
    return offer, links(book.settings, load_secret(book.settings), offer.id, len(spans), deadline)


def release(offer: OfferRow, now: datetime, state: str, kept: int | None = None) -> list[int]:
    """Close ``offer`` as ``state`` and release its holds (``kept``: the chosen one)."""
    offer.state = state
    released = []
    for hold in offer.holds:
        if hold.released_at is None:
            hold.released_at = now
            hold.release_reason = "chosen" if hold.position == kept else state
            released.append(hold.id)
    return released


def close(book: Book, db: Db, offer: OfferRow, now: datetime, state: str) -> list[int]:
    """Close an unanswered offer (expired, withdrawn): holds released, change logged."""
    held = release(offer, now, state)
    changes = {"offer": offer.id}
    entity = ("session", offer.session_id) if offer.waitlist_id is None else ("waitlist", None)
    repo.audit(
        db, now, entity[0], entity[1] or offer.waitlist_id, f"offer-{state}", Actor.ADMIN,
        book.origin, changes,
    )  # fmt: skip
    repo.record_change(db, now, f"offer.{state}", offer.session_id, {**changes, "holds": held})
    return held


def expire_offers(book: Book, now: datetime | None = None, dry_run: bool = False) -> int:
    """Release the holds of every open offer past its deadline (or whose session was
    cancelled or declined meanwhile); returns how many holds were (or would be) released.

    A query, not a timer: run at any time after the deadline (the next start or pass of
    the daemon, or `calbridge offer expire`) it releases exactly what is due."""
    when = now or book.clock()
    count = 0
    with book.transaction() as db:
        for offer in repo_offers.due_offers(db, when):
            if dry_run:
                count += sum(1 for h in offer.holds if h.released_at is None)
                continue
            state = "expired" if offer.deadline <= when else "withdrawn"
            held = close(book, db, offer, when, state)
            count += len(held)
            freed_up(book, db, offer, held)
    return count


def freed_up(book: Book, db: Db, offer: OfferRow, held: Sequence[int]) -> list[int]:
    """The released holds' times are free again: offered to the coach's waitlist."""
    from calbridge.book.waitlist_offers import freed  # it builds on this module

    spans = [(h.start, h.end) for h in offer.holds if h.id in held]
    return freed(book, db, offer.coach_id, spans)
