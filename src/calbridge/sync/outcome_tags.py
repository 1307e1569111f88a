"""Outcomes recorded from the coach's calendar: a tag on the event (see core.outcome_tags).

Which tag an event carries, and whether it can be taken at all, is decided in
``sync.decide`` (a marker that is not a configured tag, markers that disagree, a session
that has not started yet are refused there). The tag is saved here through the same
rules as ``calbridge session complete`` (by the coach); a rule may still refuse it.
Either way the sync then writes the book's version back, which removes the tag (and,
once saved, shows the event in the "done" colour).
"""

from __future__ import annotations

from calbridge.book import Book
from calbridge.book.outcomes import Mode, OutcomeRequest, Selection, save
from calbridge.core.model import Actor
from calbridge.core.outcomes import CANCELLING, Outcome
from calbridge.sync.decide import OWN, Tag

__all__ = ["OWN", "label", "save_tag"]


def save_tag(book: Book, tag: Tag) -> None:
    """Save the outcome ``tag`` records; ``Refused`` or ``UserError`` when a rule says no."""
    assert tag.row.id is not None
    outcome = Outcome(tag.outcome)
    mode = Mode.CANCEL if outcome in CANCELLING else Mode.COMPLETE
    request = OutcomeRequest(outcome=outcome, type_label=tag.type_label, by=Actor.COACH)
    save(book, Selection(ids=[tag.row.id]), request, mode)


def label(tag: Tag) -> str:
    return Outcome(tag.outcome).label
