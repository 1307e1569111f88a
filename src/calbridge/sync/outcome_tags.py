"""Outcomes recorded from the coach's calendar: a tag on the event (see core.outcome_tags).

The tag is saved through the same rules as ``calbridge session complete`` (by the coach).
It is refused, and the event reverted with the reason recorded, when a marker is not a
configured tag, when markers disagree, when the session has not started yet, or when a
rule refuses the outcome. Either way the sync then writes the book's version back, which
removes the tag (and, once saved, shows the event in the "done" colour).
"""

from __future__ import annotations

from dataclasses import dataclass

from calbridge.book import Book
from calbridge.book.outcomes import Mode, OutcomeRequest, Selection, save
from calbridge.core.model import Actor, Session
from calbridge.core.outcome_tags import markers, read
from calbridge.core.outcomes import CANCELLING, Outcome
from calbridge.core.timeutil import show
from calbridge.errors import Refused, UserError
from calbridge.events.spec import LABELS
from calbridge.ical.model import Instance

#: Categories calbridge writes itself: never markers.
OWN = (*LABELS.values(), "Closure")


@dataclass(frozen=True)
class TagResult:
    applied: str | None = None
    refused: str | None = None


def apply(book: Book, row: Session, found: Instance) -> TagResult | None:
    """Save the outcome a tag on ``found`` records; None when it carries no marker."""
    assert row.id is not None
    tags = book.settings.outcomes.tag_targets()
    present = markers(found.summary, found.categories, OWN, tags)
    if not present:
        return None
    known, unknown = read(present, tags)
    if unknown:
        names = ", ".join(repr(u) for u in unknown)
        configured = ", ".join(repr(t) for t in tags) or "none"
        return TagResult(
            refused=f"unknown outcome tag {names} (configured tags: {configured});"
            " the tag was removed"
        )
    targets = {(t.outcome, t.type) for t in known.values()}
    if len(targets) > 1:
        names = ", ".join(repr(k) for k in known)
        return TagResult(refused=f"tags {names} record different outcomes; add only one")
    now = book.clock()
    if now < row.start:
        zone = book.zone(row.coach_id)
        return TagResult(
            refused=f"session {row.id} has not started yet (starts {show(row.start, zone)});"
            " tag it once it has"
        )
    tag, target = next(iter(known.items()))
    outcome = Outcome(target.outcome)
    mode = Mode.CANCEL if outcome in CANCELLING else Mode.COMPLETE
    request = OutcomeRequest(outcome=outcome, type_label=target.type, by=Actor.COACH)
    try:
        save(book, Selection(ids=[row.id]), request, mode)
    except (Refused, UserError) as exc:
        return TagResult(refused=f"tag {tag!r}: {exc}")
    return TagResult(applied=f"session {row.id}: {outcome.label} (calendar tag {tag!r})")
