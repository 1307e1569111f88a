"""What texts say and how they are counted: GSM-7 vs UCS-2 segments, two at most, the
recipient's zone, never the private note; closures, moves and declines reach texts."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from book_helpers import move, plan_one
from calbridge.book import Book, planning
from calbridge.book.closures import ClosureMode, add_closure
from calbridge.core.model import Actor
from calbridge.core.phone import e164
from calbridge.core.timeutil import parse_date
from calbridge.mail.bodies import About, Reader
from calbridge.sms import texts
from calbridge.sms.segments import encoding, segments
from servers.twilio_fake import FakeTwilio

from .conftest import ANA, send

START = datetime(2026, 11, 24, 10, tzinfo=UTC)
READER = Reader("Ana", "ana@example.org", ZoneInfo("Europe/London"), False, "ana")


def test_segments_gsm7_and_ucs2() -> None:
    assert segments("") == 0
    assert segments("a" * 160) == 1 and segments("a" * 161) == 2
    assert segments("a" * 306) == 2 and segments("a" * 307) == 3
    assert segments("€" * 80) == 1, "an extension character takes two septets"
    assert segments("€" * 81) == 2
    assert segments("a" * 152 + "€" + "a" * 152) == 3, "an escape pair is never split"
    assert encoding("Zoë") == "UCS-2" and encoding("Chloé") == "GSM-7"
    assert segments("ë" * 70) == 1 and segments("ë" * 71) == 2
    assert segments("ë" * 134) == 2 and segments("ë" * 135) == 3
    assert segments("😀" * 35) == 1 and segments("😀" * 36) == 2
    assert segments("a" * 66 + "😀" + "a" * 66) == 3, "a surrogate pair is never split"


@given(st.text(max_size=400))
def test_segments_grow_with_the_text(text: str) -> None:
    assert segments(text + "a") >= segments(text) >= (1 if text else 0)


@given(title=st.text(min_size=1, max_size=300), reason=st.text(max_size=300))
def test_every_text_stays_within_two_segments(title: str, reason: str) -> None:
    about = About(title, "Maia Jones", START, START, note="secret?")
    for text in (
        texts.reminder(about, READER),
        texts.cancelled(about, READER, reason, False, "https://book.example/c/x"),
        texts.moved(about, READER, START),
        texts.closure(about, READER, "2026-11-24", "2026-11-25", reason),
    ):
        assert segments(text) <= 2, text
        assert "Tue 24 Nov 10:00 (Europe/London)" in text


def test_the_reason_goes_before_the_time_or_the_link() -> None:
    about = About("Session: Ana Lopez", "Maia Jones", START, START)
    text = texts.cancelled(about, READER, "x" * 300, False, "https://book.example/c/1")
    assert "Reason" not in text and text.endswith("https://book.example/c/1")


def test_phone_numbers_are_e164_or_refused_clearly() -> None:
    assert e164("07911 123456") == "+447911123456"
    assert e164("+1 415 555 0100") == "+14155550100"
    assert e164("(415) 555-0100", "US") == "+14155550100"
    for bad in ("12", "not a number", "+44 7700 900123"):
        try:
            e164(bad)
        except ValueError as exc:
            assert repr(bad) in str(exc)
        else:
            raise AssertionError(f"{bad!r} accepted")


def test_a_closure_notice_reaches_texts(sms_book: Book, twilio: FakeTwilio) -> None:
    plan_one(sms_book, "2026-11-23T10:00", clients=("ana", "ben"))
    day = parse_date("2026-11-23")
    add_closure(sms_book, day, day, "snow", "maia", ClosureMode.NOTIFY_ONLY)
    add_closure(sms_book, day, day, "still snow", "maia", ClosureMode.NOTIFY_AND_CANCEL)
    send(sms_book)
    notice, cancel = twilio.bodies()
    assert twilio.to() == [ANA, ANA]
    assert notice.startswith("Closure affects ") and "closed 2026-11-23" in notice
    assert "snow" in notice
    assert cancel.startswith("Cancelled: ") and "still snow" in cancel


def test_moves_reach_texts_and_never_the_private_note(sms_book: Book, twilio: FakeTwilio) -> None:
    session = plan_one(
        sms_book,
        "2026-11-23T10:00",
        clients=("ana",),
        note="bring the workbook",
        private_note="PRIVATE-diagnosis",
    )
    move(sms_book, session.id or 0, "2026-11-24T11:00")
    planning.cancel(sms_book, session.id or 0, Actor.COACH)
    send(sms_book)
    moved, cancelled = twilio.bodies()
    assert moved.startswith("Moved: ") and "Tue 24 Nov 11:00 (Europe/London)" in moved
    assert "(was Mon 23 Nov 10:00 (Europe/London))" in moved
    for text in (moved, cancelled):
        assert "PRIVATE" not in text and segments(text) <= 2


def test_an_offer_is_texted_with_its_links_and_still_mailed(
    sms_book: Book, twilio: FakeTwilio
) -> None:
    from calbridge.book.offers import make_offer
    from calbridge.core.timeutil import parse_time

    session = plan_one(sms_book, "2026-11-23T10:00", clients=("ana",))
    zone = sms_book.zone("maia")
    times = [parse_time(t, zone) for t in ("2026-11-24T10:00", "2026-11-25T14:00")]
    offered = make_offer(sms_book, session.id or 0, times)
    send(sms_book)
    (text,) = twilio.bodies()
    assert text.startswith("Maia Jones offers another time for your session. Tap one to confirm:")
    assert "Tue 24 Nov 10:00 (Europe/London) http" in text and segments(text) <= 2
    assert "/offer/" in text
    send(sms_book, "mail")
    with sms_book.transaction() as db:
        from calbridge.store.tables import OutboxRow

        mail = db.scalars(select(OutboxRow).where(OutboxRow.kind == "offer")).all()
    assert {r.channel for r in mail} == {"mail", "sms"} and offered.offer_id
