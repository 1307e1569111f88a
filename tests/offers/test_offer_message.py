"""The offer email as bytes (pure): shape, zone stated, escaping, no header injection."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from calbridge.ical.model import Person
from calbridge.mail.offer_message import Choice, OfferMail, offer_message

NY = ZoneInfo("America/New_York")


def mail(**changes: object) -> OfferMail:
    values: dict[str, object] = {
        "practice": "sessions@practice.example",
        "coach": Person("Sam Okafor", "sam@practice.example"),
        "zone": NY,
        "client": Person("Ana Lopez", "ana@example.org"),
        "current": (datetime(2026, 12, 7, 15, tzinfo=UTC), datetime(2026, 12, 7, 16, tzinfo=UTC)),
        "choices": [
            Choice(
                datetime(2026, 12, 9, 15, tzinfo=UTC),
                datetime(2026, 12, 9, 16, tzinfo=UTC),
                "https://x.example/offer/1.1.9.sig",
            )
        ],
        "reject_url": "https://x.example/offer/1.reject.9.sig",
        "deadline": datetime(2026, 11, 22, 12, tzinfo=UTC),
    }
    values.update(changes)
    return OfferMail(**values)  # type: ignore[arg-type]


def roundtrip(message: EmailMessage) -> EmailMessage:
    raw = message.as_bytes(policy=email.policy.SMTP)
    back = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(back, EmailMessage)
    return back


def test_times_are_in_the_coachs_zone_and_say_so() -> None:
    back = roundtrip(offer_message(mail()))
    text = back.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Wednesday 9 December 2026, 10:00–11:00" in text  # 15:00 UTC in New York
    assert "Monday 7 December 2026, 10:00–11:00" in text
    assert "America/New_York time" in text
    assert "Sunday 22 November 2026, 07:00" in text  # the deadline


def test_names_with_line_breaks_cannot_inject_headers() -> None:
    evil = "Sam\r\nBcc: victim@evil.example\r\nX-Evil: 1"
    message = offer_message(
        mail(coach=Person(evil, "sam@practice.example"), client=Person(evil, "ana@example.org"))
    )
    back = roundtrip(message)
    assert back["Bcc"] is None and back["X-Evil"] is None
    assert sorted(k for k in back if k.lower() in {"to", "from", "reply-to", "subject"}) == [
        "From",
        "Reply-To",
        "Subject",
        "To",
    ]
    assert [a.addr_spec for a in back["To"].addresses] == ["ana@example.org"]
    assert [a.addr_spec for a in back["Reply-To"].addresses] == ["sam@practice.example"]


def test_html_escapes_names_notes_and_links() -> None:
    message = offer_message(
        mail(client=Person("<b>Ana</b>", "ana@example.org"), note='<script>alert("x")</script>')
    )
    html = roundtrip(message).get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>Ana</b>" not in html and "&lt;b&gt;Ana&lt;/b&gt;" in html
    assert 'href="https://x.example/offer/1.1.9.sig"' in html
