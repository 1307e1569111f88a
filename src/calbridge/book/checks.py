"""Gather what the rules need inside the open transaction, then let the pure rules decide."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from calbridge.book.context import Book
from calbridge.config.schema import Coach
from calbridge.core import limits
from calbridge.core.availability import Busy, closure_busy, conflicts
from calbridge.core.model import Client
from calbridge.core.timeutil import add_months, month_of, show
from calbridge.errors import Refused, UserError
from calbridge.store import repo, repo_offers
from calbridge.store.db import Db

Span = tuple[datetime, datetime]


def coach_busy(
    book: Book, db: Db, coach: Coach, first: datetime, last: datetime, ignore: Sequence[int] = ()
) -> list[Busy]:
    """Everything that makes ``coach`` busy between ``first`` and ``last`` (holds too)."""
    zone = coach.zone()
    rows = repo.coach_sessions(db, coach.id, first, last)
    day = timedelta(days=1)
    found = repo.closures(
        db, coach.id, first.astimezone(zone).date() - day, last.astimezone(zone).date() + day
    )
    busy = repo.sessions_busy(rows, ignore)
    busy += [closure_busy(c, zone) for c in found]
    busy += repo.busy_blocks(db, coach.id, first, last)
    busy += repo_offers.holds_busy(db, coach.id, first, last, book.clock(), ignore)
    return sorted(busy, key=lambda b: b.start)


def availability(
    book: Book,
    db: Db,
    coach: Coach,
    spans: Sequence[Span],
    override: bool,
    ignore: Sequence[int] = (),
) -> None:
    """Refuse spans in a closure (always) or in busy time (unless ``override``)."""
    zone = coach.zone()
    busy = coach_busy(book, db, coach, spans[0][0], spans[-1][1], ignore)
    closed, taken = [], []
    for start, end in spans:
        found = conflicts(start, end, coach.hours(), zone, busy)
        if found.hard:
            closed.append(f"{show(start, zone)}: {found.describe(zone)}")
        elif found and not override:
            taken.append(f"{show(start, zone)}: {found.describe(zone)}")
    if closed:
        raise Refused(
            "closure",
            f"coach {coach.id} is closed then (times in {zone.key}) — " + " | ".join(closed),
            coach=coach.id,
            conflicts=closed,
        )
    if taken:
        raise Refused(
            "unavailable",
            f"coach {coach.id} is not available (times in {zone.key}) — "
            + " | ".join(taken)
            + " (use --override-availability to plan anyway)",
            coach=coach.id,
            conflicts=taken,
        )


def past(coach: Coach, spans: Sequence[Span], now: datetime, record: bool) -> None:
    """Planning into the past is refused unless ``record`` (a session that happened);
    ``record`` in turn is only for the past."""
    zone = coach.zone()
    earlier = [show(start, zone) for start, _ in spans if start < now]
    later = [show(start, zone) for start, _ in spans if start >= now]
    if earlier and not record:
        raise Refused(
            "past",
            f"{', '.join(earlier[:3])} ({zone.key}) is in the past: nobody could answer the"
            " invitation (use --record to record a session that happened, scheduled and"
            " without invitations)",
            starts=earlier,
        )
    if record and later:
        raise Refused(
            "not-past",
            f"--record is for sessions that happened; {', '.join(later[:3])} ({zone.key})"
            " is not in the past",
            starts=later,
        )


def client_months(book: Book, db: Db, client: Client, first_month: str) -> limits.ClientMonths:
    return repo.client_months(db, client.id, book.limit(client.program), first_month)


def monthly_limits(
    book: Book,
    db: Db,
    coach: Coach,
    clients: Sequence[Client],
    placements: Sequence[limits.Placement],
) -> None:
    """Each client of the session is checked on their own (group sessions too)."""
    if not placements:
        return
    first = min(p.month for p in placements)
    for client in clients:
        limits.check(client_months(book, db, client, first), placements, coach.zone())


def first_month_with_room(book: Book, db: Db, clients: Sequence[Client], month: str) -> str | None:
    """The first month from ``month`` in which every client has room."""
    found = [client_months(book, db, c, month) for c in clients]
    for step in range(limits.SEARCH_MONTHS):
        candidate = add_months(month, step)
        if all(c.count(candidate) < c.limit for c in found):
            return candidate
    return None


def placements(coach: Coach, spans: Sequence[Span]) -> list[limits.Placement]:
    zone = coach.zone()
    return [limits.Placement(month_of(s, zone), s) for s, _ in spans]


def not_archived(db: Db, clients: Sequence[str], third_parties: Sequence[str] = ()) -> None:
    """Refuse planning or offering to an archived client or third party (exit 1)."""
    for kind, ids in (("client", clients), ("third-party", third_parties)):
        found = repo.archived_ids(db, kind, ids)
        if found:
            what = kind.replace("-", " ")
            raise Refused(
                "archived",
                f"{what} {found[0]!r} is archived: `calbridge {kind} unarchive {found[0]}` first",
                party=found[0],
            )


def service(book: Book, name: str) -> None:
    """A service named by a command must be one of [services]."""
    if name not in book.settings.services:
        known = ", ".join(sorted(book.settings.services)) or "none configured in [services]"
        raise UserError(f"unknown service {name!r} (known: {known})")
