"""Video sessions carry the coach's call link as CONFERENCE (RFC 7986) and URL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from icalendar import Calendar

from calbridge.core.model import Kind, Participant, Role, Session, Status
from calbridge.events.spec import session_spec
from calbridge.ical.build import render_event
from calbridge.ical.model import Person

LINK = "https://meet.example/maia"
START = datetime(2026, 12, 1, 10, tzinfo=UTC)


def _event(kind: Kind, link: str | None, method: str | None = None) -> Calendar:
    session = Session(
        uid="calbridge-video-1",
        coach_id="maia",
        start=START,
        end=START + timedelta(hours=1),
        tzid="Europe/London",
        kind=kind,
        participants=[Participant("ana", Role.CLIENT)],
        status=Status.REQUESTED,
        id=1,
    )
    people = {"ana": Person("Ana Lopez", "ana@example.org")}
    spec = session_spec([session], Person("Maia", "maia@practice.example"), people, {}, None, link)
    assert spec is not None
    data = render_event(spec, START, method=method) if method else render_event(spec, START)
    return Calendar.from_ical(data)


def test_a_video_session_has_conference_and_url_in_calendar_and_mail() -> None:
    for method in (None, "REQUEST"):
        (event,) = _event(Kind.VIDEO, LINK, method).walk("VEVENT")
        assert str(event["URL"]) == LINK
        conference = event["CONFERENCE"]
        assert str(conference) == LINK
        assert conference.params["VALUE"] == "URI" and "VIDEO" in conference.params["FEATURE"]


def test_other_sessions_and_coaches_without_a_link_have_none() -> None:
    for kind, link in ((Kind.CLIENT, LINK), (Kind.VIDEO, None)):
        (event,) = _event(kind, link).walk("VEVENT")
        assert "URL" not in event and "CONFERENCE" not in event
