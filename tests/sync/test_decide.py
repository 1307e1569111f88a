"""``sync.decide`` on plain values: what a calendar's copy means, with no database at all.

Each command kind (move, cancel, answer, tag, revert), the edits that must become a
revert (the book's version goes back), and hostile copies, which are refused by their
size or shape before they cost time. Nothing here opens a book: the decisions are pure.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from calbridge.core.model import Participant, Role, Session, Status
from calbridge.ical.bounds import DEFAULT
from calbridge.ical.resource import read_resource
from calbridge.sync.decide import (
    Answer,
    Cancel,
    Command,
    Move,
    Revert,
    Rules,
    Tag,
    decide,
    foresee,
)
from calbridge.sync.shapes import SINGLE
from hostile_events import KINDS, make_hostile

LONDON = ZoneInfo("Europe/London")
UID = "calbridge-decide-1"
START = datetime(2027, 3, 2, 10, 0, tzinfo=UTC)
END = START + timedelta(hours=1)
LATER = START + timedelta(days=2, hours=4)
SUMMARY = "Session: Ana Lopez"
EMAILS = {"ana": "ana@example.org"}


@dataclass(frozen=True)
class Target:
    outcome: str
    type: str | None = None


TAGS = {"No show": Target("no-show"), "Attended": Target("completed")}
BEFORE = Rules(LONDON, START - timedelta(days=1), TAGS)
AFTER = Rules(LONDON, END + timedelta(hours=1), TAGS)


def row(status: Status = Status.REQUESTED, partstat: str = "NEEDS-ACTION") -> Session:
    return Session(
        uid=UID,
        coach_id="maia",
        start=START,
        end=END,
        tzid="Europe/London",
        participants=[Participant("ana", Role.CLIENT, partstat)],
        status=status,
        id=7,
    )


def ics(
    start: datetime = START,
    end: datetime = END,
    *,
    uid: str = UID,
    summary: str = SUMMARY,
    status: str = "TENTATIVE",
    partstat: str = "NEEDS-ACTION",
    extra: tuple[str, ...] = (),
) -> bytes:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//calbridge//calbridge//EN",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        "DTSTAMP:20261101T000000Z",
        f"DTSTART:{start:%Y%m%dT%H%M%SZ}",
        f"DTEND:{end:%Y%m%dT%H%M%SZ}",
        f"SUMMARY:{summary}",
        f"STATUS:{status}",
        f"ATTENDEE;CN=Ana Lopez;PARTSTAT={partstat}:mailto:ana@example.org",
        *extra,
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return ("\r\n".join(lines) + "\r\n").encode()


AGREED = ics()


def commands(
    copy: bytes,
    refs: tuple[bytes | None, bytes | None] = (AGREED, None),
    rules: Rules = BEFORE,
    rows: list[Session] | None = None,
) -> list[Command]:
    return decide(rows or [row()], read_resource(copy), refs, EMAILS, rules, "x.ics")


def test_a_new_time_is_a_move_by_the_coach() -> None:
    (move,) = commands(ics(LATER, LATER + timedelta(hours=1)))
    assert move == Move(row(), LATER, LATER + timedelta(hours=1))


def test_the_time_calbridge_itself_sent_is_no_move() -> None:
    sent = ics(LATER, LATER + timedelta(hours=1))
    assert commands(sent, (AGREED, sent)) == []
    assert commands(AGREED) == []


def test_a_cancelled_event_is_a_cancellation_unless_it_never_was_open() -> None:
    assert commands(ics(status="CANCELLED")) == [Cancel(row())]
    never = ics(status="CANCELLED")
    assert commands(never, (never, None)) == []


def test_an_attendees_partstat_is_their_answer_once() -> None:
    assert commands(ics(partstat="ACCEPTED")) == [Answer(row(), "ana", True)]
    assert commands(ics(partstat="DECLINED")) == [Answer(row(), "ana", False)]
    answered = ics(partstat="ACCEPTED")
    assert commands(answered, (answered, None)) == []  # already agreed: no news
    assert commands(ics(partstat="TENTATIVE")) == []  # not an answer
    assert commands(ics(partstat="ACCEPTED"), rows=[row(partstat="ACCEPTED")]) == []


def test_a_move_and_an_answer_in_one_edit_are_both_taken() -> None:
    found = commands(ics(LATER, LATER + timedelta(hours=1), partstat="ACCEPTED"))
    assert [type(c) for c in found] == [Move, Answer]


def test_an_outcome_tag_is_read_once_the_session_started() -> None:
    tagged = ics(extra=("CATEGORIES:No show",))
    assert commands(tagged, rules=AFTER) == [Tag(row(), "No show", "no-show", None)]
    (early,) = commands(tagged, rules=BEFORE)
    assert isinstance(early, Revert) and "has not started yet" in early.reason
    assert early.refused.startswith("outcome of session 7:")


def test_unknown_or_conflicting_tags_become_reverts() -> None:
    (unknown,) = commands(ics(summary=SUMMARY + " [Sick]"), rules=AFTER)
    assert isinstance(unknown, Revert) and "unknown outcome tag 'Sick'" in unknown.reason
    both = ics(extra=("CATEGORIES:No show,Attended",))
    (conflict,) = commands(both, rules=AFTER)
    assert isinstance(conflict, Revert) and "record different outcomes" in conflict.reason


def test_what_calbridge_owns_goes_back_but_a_move_with_it_is_kept() -> None:
    (title,) = commands(ics(summary="Lunch"))
    assert isinstance(title, Revert) and "title is written by calbridge" in title.reason
    assert title.refused == f"session 7: {title.reason}"
    found = commands(ics(LATER, LATER + timedelta(hours=1), extra=("TRANSP:TRANSPARENT",)))
    assert [type(c) for c in found] == [Revert, Move]
    assert "blocks the coach's time" in found[0].reason  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("copy", "said"),
    [
        (ics(extra=("RRULE:FREQ=WEEKLY",)), SINGLE.format(what="RRULE")),
        (ics(uid="someone-else"), "its UID was changed to 'someone-else'"),
        (b"BEGIN:VCALENDAR\r\nnot a content line\r\n", "could not be read"),
        (b"\xff\xfe garbage", "could not be read"),
        (b"", "could not be read"),
    ],
    ids=["repeat-added", "uid-changed", "broken-lines", "not-text", "empty"],
)
def test_edits_that_cannot_be_taken_become_one_revert(copy: bytes, said: str) -> None:
    (revert,) = commands(copy)
    assert isinstance(revert, Revert) and revert.row == row()
    assert said in revert.reason
    assert revert.refused == f"x.ics: {revert.reason}"
    assert foresee([row()], read_resource(copy), (AGREED, None), LONDON) == [(row(), "revert")]


def test_a_refusal_without_an_open_session_is_reported_only() -> None:
    (revert,) = commands(b"junk", rows=[row(Status.CANCELLED)])
    assert revert == Revert(None, revert.reason, f"x.ics: {revert.reason}")  # type: ignore[union-attr]


@pytest.mark.parametrize("kind", KINDS)
def test_hostile_copies_are_reverted_quickly(kind: str) -> None:
    copy = make_hostile(AGREED, kind, START)
    started = time.perf_counter()
    (revert,) = commands(copy)
    assert time.perf_counter() - started < 5
    assert isinstance(revert, Revert) and revert.row == row()
    assert "repeat" in revert.reason or "past the cap" in revert.reason, revert.reason


def test_a_copy_past_the_size_cap_is_never_parsed() -> None:
    copy = make_hostile(AGREED, "description", START)
    resource = read_resource(copy, DEFAULT)
    assert resource.calendar is None and "resource_kb" in (resource.problem or "")


def test_foresee_tells_a_dry_run_what_each_edit_would_do() -> None:
    def seen(copy: bytes) -> str:
        ((_, label),) = foresee([row()], read_resource(copy), (AGREED, None), LONDON)
        return label

    assert seen(ics(LATER, LATER + timedelta(hours=1))) == "import move"
    assert seen(ics(status="CANCELLED")) == "import cancel"
    assert seen(ics(summary="Lunch")) == "revert"
    assert seen(ics(partstat="ACCEPTED")) == "import"
