"""The monthly limit (PRODUCT rule 1), decided from data already read."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from calbridge.core.timeutil import add_months, show
from calbridge.errors import Refused

#: How far ahead to look for a month with room before giving up.
SEARCH_MONTHS = 36
#: How many months of a client's bookings a read of their months holds.
HORIZON_MONTHS = 36


@dataclass(frozen=True)
class Booked:
    """A session that fills a client's month."""

    session_id: int
    start: datetime


@dataclass(frozen=True)
class ClientMonths:
    """What one client already has booked, by month, and their program's limit."""

    client_id: str
    limit: int
    booked: Mapping[str, Sequence[Booked]]

    def count(self, month: str, ignore: Iterable[int] = ()) -> int:
        skip = set(ignore)
        return sum(1 for b in self.booked.get(month, ()) if b.session_id not in skip)

    def next_month_with_room(
        self, month: str, extra: Mapping[str, int] | None = None
    ) -> str | None:
        """The first month from ``month`` on whose bookings (plus ``extra``) leave room."""
        extra = extra or {}
        for step in range(SEARCH_MONTHS):
            candidate = add_months(month, step)
            if self.count(candidate) + extra.get(candidate, 0) < self.limit:
                return candidate
        return None


@dataclass(frozen=True)
class Placement:
    """A session (new or moved) landing in a month; ``moving`` names it if it exists."""

    month: str
    start: datetime
    moving: int | None = None
    from_month: str | None = None


def refusals(client: ClientMonths, placements: Sequence[Placement]) -> list[Placement]:
    """The placements that would take ``client`` over their limit, in order.

    Placements are counted cumulatively, so a series fills a month as it goes. A move
    within its own month is always allowed, even into a month already over the limit.
    """
    return _tally(client, placements)[0]


def _tally(
    client: ClientMonths, placements: Sequence[Placement]
) -> tuple[list[Placement], dict[str, int]]:
    """(refused placements, accepted ones by month)."""
    added: dict[str, int] = {}
    over: list[Placement] = []
    for place in placements:
        if place.moving is not None and place.from_month == place.month:
            continue
        ignore = [place.moving] if place.moving is not None else []
        if client.count(place.month, ignore) + added.get(place.month, 0) >= client.limit:
            over.append(place)
            continue
        added[place.month] = added.get(place.month, 0) + 1
    return over, added


def _zone_name(zone: tzinfo) -> str:
    return str(getattr(zone, "key", None) or zone)


def check(client: ClientMonths, placements: Sequence[Placement], zone: tzinfo) -> None:
    """Raise ``Refused(monthly_limit)`` naming the month, what fills it and the next with room."""
    over, added = _tally(client, placements)
    if not over:
        return
    month = over[0].month
    filling = sorted(client.booked.get(month, ()), key=lambda b: b.start)
    filled_by = [f"#{b.session_id} on {show(b.start, zone)}" for b in filling]
    if added.get(month):
        filled_by.append(f"{added[month]} earlier occurrence(s) of this request")
    nxt = client.next_month_with_room(month, added)
    taken = client.count(month) + added.get(month, 0)
    # The client's sessions may be another coach's: say which zone their times are in.
    listed = f"times in {_zone_name(zone)}: {', '.join(filled_by)}" if filled_by else ""
    message = (
        f"client {client.client_id}'s month {month} is full: {taken} of"
        f" {client.limit} sessions ({listed or 'nothing else booked'})"
    )
    if len(placements) > 1:
        names = ", ".join(show(p.start, zone) for p in over)
        message += f"; refused occurrences: {names}"
    message += f"; next month with room: {nxt}" if nxt else "; no month with room in sight"
    raise Refused(
        "monthly_limit",
        message,
        client=client.client_id,
        month=month,
        limit=client.limit,
        sessions=[b.session_id for b in filling],
        filled_by=[
            {"id": b.session_id, "start": b.start.astimezone(zone).isoformat()} for b in filling
        ],
        next_month=nxt,
        occurrences=[p.start.isoformat() for p in over],
    )


def position(client: ClientMonths, month: str, session_id: int) -> int | None:
    """'Session k of n': the 1-based rank of ``session_id`` among the month's bookings."""
    ordered = sorted(client.booked.get(month, ()), key=lambda b: (b.start, b.session_id))
    for index, booked in enumerate(ordered, start=1):
        if booked.session_id == session_id:
            return index
    return None
