"""Booking policies in the book: gather the coach's sessions around a time, let
``core.policies`` decide, refuse (plan, edit, offers, counters) or skip (the slot
finder) what breaks a policy. ``--override-availability`` lifts them; the monthly limit
is not theirs to lift (checked elsewhere, always)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from calbridge.book import checks
from calbridge.book.context import Book
from calbridge.book.requests import PlanRequest
from calbridge.config.schema import Coach
from calbridge.core import limits
from calbridge.core.availability import Busy, free_slots
from calbridge.core.model import CLIENT_KINDS, Client, Kind
from calbridge.core.policies import Other, Policy, violations
from calbridge.core.timeutil import add_months, day_start, month_bounds, month_of
from calbridge.errors import Refused
from calbridge.store import repo, repo_offers
from calbridge.store.db import Db

Span = tuple[datetime, datetime]
DAY = timedelta(days=1)


def others(
    book: Book,
    db: Db,
    coach: Coach,
    first: datetime,
    last: datetime,
    ignore: Sequence[int] = (),
    blocks: bool = True,
) -> list[Other]:
    """The coach's open sessions on the local days from ``first`` to ``last`` and the
    day either side (buffers reach across midnight), each with its own policy; and the
    coach's busy calendar time and offer holds there, which keep the session's own
    buffers too (they have none of their own and count toward no daily cap; ``blocks``
    False: the session has no buffers, so they are not read)."""
    zone = coach.zone()
    begin = day_start(first.astimezone(zone).date() - DAY, zone)
    end = day_start(last.astimezone(zone).date() + 2 * DAY, zone)
    skip = set(ignore)
    busy: list[Busy] = []
    if blocks:
        busy += repo.busy_blocks(db, coach.id, begin, end)
        busy += repo_offers.holds_busy(db, coach.id, begin, end, book.clock(), ignore)
    return [Other(b.start, b.end, Policy(), b.what, counts=False) for b in busy] + [
        Other(
            r.start,
            r.end,
            book.settings.policy(r.service),
            f"session #{r.id}",
            Kind(r.kind) in CLIENT_KINDS,
        )
        for r in repo.coach_sessions(db, coach.id, begin, end)
        if r.id not in skip
    ]


def check(
    book: Book,
    db: Db,
    coach: Coach,
    spans: Sequence[Span],
    kind: Kind,
    service: str | None,
    override: bool,
    ignore: Sequence[int] = (),
) -> None:
    """Refuse ``spans`` (one session or a series) if any breaks the booking policy of
    ``service``; client sessions only, and nothing when the admin overrides."""
    if override or kind not in CLIENT_KINDS or not spans:
        return
    policy = book.settings.policy(service)
    if not policy.restricts and not book.settings.buffered_anywhere():
        return  # nothing this session could break: the coach's day is not read
    zone = coach.zone()
    buffered = bool(policy.before or policy.after)
    around = others(book, db, coach, spans[0][0], spans[-1][1], ignore, buffered)
    now = book.clock()
    found: list[str] = []
    for start, end in spans:
        found += violations(start, end, around, now, policy, zone)
        around.append(Other(start, end, policy, "another occurrence"))
    if found:
        raise Refused(
            "policy",
            f"coach {coach.id}: the time breaks a booking policy (times in {zone.key}) — "
            + " | ".join(found)
            + " (use --override-availability to plan anyway)",
            coach=coach.id,
            conflicts=found,
        )


def _buffers(around: Sequence[Other], policy: Policy) -> list[Busy]:
    """Each session widened by the buffers facing it: a slot clear of these leaves
    every gap the policies ask."""
    return [
        Busy(
            o.start - max(o.policy.before, policy.after),
            o.end + max(o.policy.after, policy.before),
            f"buffer around {o.what}",
        )
        for o in around
    ]


def slots(
    book: Book,
    db: Db,
    coach: Coach,
    window: Span,
    length: timedelta,
    service: str | None,
    ignore: Sequence[int] = (),
    kind: Kind = Kind.CLIENT,
) -> list[Span]:
    """Free slots in ``window`` that every booking policy of ``service`` allows (for a
    client session; other kinds have none)."""
    zone = coach.zone()
    now = book.clock()
    policy = book.settings.policy(service) if kind in CLIENT_KINDS else Policy()
    horizon = policy.horizon_end(now, zone)
    begin = max(window[0], policy.earliest(now))
    finish = window[1] if horizon is None else min(window[1], horizon + length)
    if begin >= finish:
        return []
    busy = checks.coach_busy(book, db, coach, begin, finish, ignore)
    around = others(book, db, coach, begin, finish, ignore, bool(policy.before or policy.after))
    busy = sorted([*busy, *_buffers(around, policy)], key=lambda b: b.start)
    step = timedelta(minutes=book.settings.book.slot_minutes)
    found = free_slots((begin, finish), coach.hours(), zone, busy, length, step)
    return [(s, e) for s, e in found if not violations(s, e, around, now, policy, zone)]


def first_free(
    book: Book,
    db: Db,
    coach: Coach,
    clients: list[Client],
    length: timedelta,
    req: PlanRequest,
) -> datetime:
    """The default start of ``req``: the first free slot its policies allow in the first
    month with room."""
    zone = coach.zone()
    now = book.clock()
    month = month_of(now, zone)
    for _ in range(limits.SEARCH_MONTHS):
        found = checks.first_month_with_room(book, db, clients, month)
        if found is None:
            break
        begin, finish = month_bounds(found, zone)
        if finish > now:
            window = (max(begin, now), finish)
            free = slots(book, db, coach, window, length, req.service, kind=req.kind)
            if free:
                return free[0][0]
        month = add_months(found, 1)
    raise Refused("no_slot", f"no free slot found for coach {coach.id} in the next months")
