"""What a calendar edit means for the book, decided without the book (PRODUCT rule 7). Pure.

From the sessions of one UID, the calendar's copy of it (read once, ``ical.resource``)
and the versions both sides last agreed on, ``decide`` returns the commands that bring
the coach's edit into the book: a moved event is a ``Move`` (a reschedule by the coach),
a removed occurrence or a CANCELLED event a ``Cancel``, a client's PARTSTAT an
``Answer``, an outcome tag a ``Tag``; what cannot be taken is a ``Revert`` with the
reason the coach is told. The book's rules may still refuse a move, an answer or a tag
when it is applied (``sync.importer``); a refused move or tag is reverted then.

A value the calendar shows is the coach's edit only where it differs from every
reference (a three-way merge): what the book itself last wrote there is not an edit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from calbridge.core.model import ACTIVE, Session
from calbridge.core.outcome_tags import markers, read
from calbridge.core.timeutil import show
from calbridge.events.spec import LABELS
from calbridge.ical.bounds import DEFAULT, Bounds
from calbridge.ical.model import Instance, MalformedEvent
from calbridge.ical.parse import instances_of, parse_instances
from calbridge.ical.resource import Resource
from calbridge.sync import shapes

#: Categories calbridge writes itself: never outcome markers.
OWN = (*LABELS.values(), "Closure")
CANCELLED_REASON = "removed in the coach's calendar"


class TagTarget(Protocol):
    """What a configured outcome tag records (``[outcomes.tags]``)."""

    @property
    def outcome(self) -> str: ...
    @property
    def type(self) -> str | None: ...


@dataclass(frozen=True)
class Rules:
    """What the decisions depend on besides the event: the coach's zone, the time, the
    configured outcome tags and the caps on reading."""

    zone: ZoneInfo
    now: datetime
    tags: Mapping[str, TagTarget] = field(default_factory=dict)
    bounds: Bounds = DEFAULT


@dataclass(frozen=True)
class Move:
    row: Session
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Cancel:
    row: Session
    reason: str = CANCELLED_REASON


@dataclass(frozen=True)
class Answer:
    """A client's answer (applied only while the session is still open)."""

    row: Session
    party_id: str
    accept: bool


@dataclass(frozen=True)
class Tag:
    row: Session
    tag: str
    outcome: str
    type_label: str | None


@dataclass(frozen=True)
class Revert:
    """The calendar's edit is undone (the book's version goes back) and the coach told
    ``reason``; ``refused`` is the line for the sync report. ``row`` None: there is no
    open session to record it on (the report line stands alone)."""

    row: Session | None
    reason: str
    refused: str


Command = Move | Cancel | Answer | Tag | Revert
Pair = tuple[Session, Instance | None, list[Instance | None]]


def decide(
    rows: Sequence[Session],
    copy: Resource,
    refs: tuple[bytes | None, bytes | None],
    emails: Mapping[str, str],
    rules: Rules,
    href: str = "",
) -> list[Command]:
    """The commands that take the calendar's ``copy`` of these rows' UID into the book.

    ``refs``: the content both sides last agreed on, and a write of calbridge's sent but
    not confirmed; ``emails``: each client's address (lower case) by party id.
    """
    problem, pairs = pair_up(rows, copy, refs, rules.zone, rules.bounds)
    if problem is not None:  # never read as a deletion: the book's version goes back
        live = live_rows(rows)
        return [Revert(live[0] if live else None, problem, f"{href or rows[0].uid}: {problem}")]
    commands: list[Command] = []
    for row, found, known in pairs:
        commands += _decide_row(row, found, known, emails, rules)
    return commands


def foresee(
    rows: Sequence[Session],
    copy: Resource,
    refs: tuple[bytes | None, bytes | None],
    zone: ZoneInfo,
    bounds: Bounds = DEFAULT,
) -> list[tuple[Session, str]]:
    """What importing ``copy`` would do to each live row, for a dry run (nothing written):
    "import cancel", "import move", "revert" (an edit the book's version undoes), or
    "import" (answers, outcome tags). The rules may still refuse a move when applied."""
    problem, pairs = pair_up(rows, copy, refs, zone, bounds)
    if problem is not None:
        return [(row, "revert") for row in live_rows(rows)]
    seen = []
    for row, found, known in pairs:
        if found is None or found.status == "CANCELLED":
            if not _never_open(known):
                seen.append((row, "import cancel"))
        elif shapes.owned_changes(found, known):
            seen.append((row, "revert"))
        elif moved(row, found, known):
            seen.append((row, "import move"))
        else:
            seen.append((row, "import"))
    return seen


def _decide_row(
    row: Session,
    found: Instance | None,
    refs: list[Instance | None],
    emails: Mapping[str, str],
    rules: Rules,
) -> list[Command]:
    if found is None or found.status == "CANCELLED":
        return [] if _never_open(refs) else [Cancel(row)]
    tagged = _tag(row, found, rules)
    if tagged is not None:  # an outcome tag: only it is read; the book's version goes back
        return [tagged]
    commands: list[Command] = []
    kept = shapes.owned_changes(found, refs)
    if kept:
        reason = "; ".join(kept)
        commands.append(Revert(row, reason, f"session {row.id}: {reason}"))
    if moved(row, found, refs):
        commands.append(Move(row, found.start, found.end))
    return commands + _answers(row, found, refs, emails)


def _never_open(refs: list[Instance | None]) -> bool:
    """Never shown as open in the calendar: nothing the coach removed."""
    return bool(refs) and all(r is None or r.status == "CANCELLED" for r in refs)


def _tag(row: Session, found: Instance, rules: Rules) -> Command | None:
    """The outcome an event's tag records (or why it is refused); None without a marker."""
    present = markers(found.summary, found.categories, OWN, rules.tags)
    if not present:
        return None
    known, unknown = read(present, rules.tags)
    targets = {(t.outcome, t.type) for t in known.values()}
    if unknown:
        names = ", ".join(repr(u) for u in unknown)
        configured = ", ".join(repr(t) for t in rules.tags) or "none"
        reason = f"unknown outcome tag {names} (configured tags: {configured}); the tag was removed"
    elif len(targets) > 1:
        names = ", ".join(repr(k) for k in known)
        reason = f"tags {names} record different outcomes; add only one"
    elif rules.now < row.start:
        starts = show(row.start, rules.zone)
        reason = f"session {row.id} has not started yet (starts {starts}); tag it once it has"
    else:
        tag, target = next(iter(known.items()))
        return Tag(row, tag, target.outcome, target.type)
    return Revert(row, reason, f"outcome of session {row.id}: {reason}")


def _answers(
    row: Session, found: Instance, refs: list[Instance | None], emails: Mapping[str, str]
) -> list[Command]:
    """A client's PARTSTAT that reached the coach's copy is that client's answer (unless
    it is the one the references already held: then it is no news)."""
    commands: list[Command] = []
    for part in row.participants:
        email = emails.get(part.party_id, "")
        new = found.partstats.get(email)
        if new not in ("ACCEPTED", "DECLINED") or new == part.partstat:
            continue
        if any(r is not None and r.partstats.get(email) == new for r in refs):
            continue
        commands.append(Answer(row, part.party_id, new == "ACCEPTED"))
    return commands


def pair_up(
    rows: Sequence[Session],
    copy: Resource,
    refs: tuple[bytes | None, bytes | None],
    zone: ZoneInfo,
    bounds: Bounds,
) -> tuple[str | None, list[Pair]]:
    """Why the calendar's copy cannot be taken (or None), and each live row with its
    instance there and in the references (what both sides agreed on, what was sent)."""
    try:
        calendar = copy.the_calendar()  # None past a cap: never parsed
        problem = shapes.unacceptable(rows, calendar)
        window = _window(rows, bounds)
        instances = (
            _by_recurrence(instances_of(calendar, window, zone, bounds)) if problem is None else {}
        )
    except MalformedEvent as exc:
        problem = f"the calendar's copy could not be read ({exc})"
    if problem is not None:
        return problem, []
    references = [r for r in (_reference(rows, ref, zone, bounds) for ref in refs) if r]
    series = any(r.recurrence_id is not None for r in rows)
    pairs: list[Pair] = []
    for row in sorted(live_rows(rows), key=lambda r: r.recurrence_id or r.start):
        key = row.recurrence_id if series else None
        pairs.append((row, instances.get(key), [ref.get(key) for ref in references]))
    return None, pairs


def live_rows(rows: Sequence[Session]) -> list[Session]:
    return [r for r in rows if r.status in ACTIVE and r.id is not None]


def moved(row: Session, found: Instance, refs: Sequence[Instance | None]) -> bool:
    """The calendar shows another time, one no reference held (the coach moved it)."""
    span = (found.start, found.end)
    return span != (row.start, row.end) and all(r is None or (r.start, r.end) != span for r in refs)


def _reference(
    rows: Sequence[Session], data: bytes | None, zone: ZoneInfo, bounds: Bounds
) -> dict[datetime | None, Instance] | None:
    """A version both sides agreed on (or calbridge sent), read like the calendar's."""
    if not data:
        return None
    try:
        return _by_recurrence(parse_instances(data, _window(rows, bounds), zone, bounds))
    except MalformedEvent:
        return None


def _window(rows: Sequence[Session], bounds: Bounds) -> tuple[datetime, datetime]:
    """From ``window_days`` before the book's first occurrence to as long after its last
    (to find moved ones)."""
    reach = timedelta(days=bounds.window_days)
    first = min(min(r.start, r.recurrence_id or r.start) for r in rows) - reach
    last = max(max(r.end, r.recurrence_id or r.end) for r in rows) + reach
    return first, last


def _by_recurrence(found: list[Instance]) -> dict[datetime | None, Instance]:
    return {i.recurrence_id: i for i in found}
