"""The waitlist's texts stay within two segments (GSM-7 and UCS-2) and say when."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from calbridge.mail.bodies import Reader
from calbridge.sms import texts
from calbridge.sms.segments import segments

START = datetime(2026, 11, 23, 10, tzinfo=UTC)
URL = "https://sessions.practice.example/offer/" + "A" * 120


@pytest.mark.parametrize("coach", ["Maia Jones", "Zoë Ångström-Øberg 日本", "M" * 300])
def test_waitlist_and_withdrawn_texts_fit_two_segments(coach: str) -> None:
    reader = Reader(coach, "", ZoneInfo("Europe/London"), own_zone=False, party="ana")
    made = [
        texts.waitlist_offer(coach, START, URL, reader),
        texts.waitlist_gone(coach, START, reader),
        texts.waitlist_gone(coach, START, reader, "you were taken off the waitlist"),
        texts.offer_cancelled(coach, [START, START, START], reader),
    ]
    for text in made:
        assert segments(text) <= texts.MAX_SEGMENTS, text
        assert "Mon 23 Nov 10:00 (Europe/London)" in text
    assert URL in made[0]
