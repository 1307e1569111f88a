"""The pure mapping for Graph: recurrence patterns, category colours, Outlook's own events."""

from __future__ import annotations

import pytest
from icalendar import vRecur

from calbridge.calendars.graphcolors import preset_for
from calbridge.calendars.graphmap import from_graph, to_graph
from calbridge.calendars.graphrec import RecurrenceError, pattern_of, rrule_of
from validate_helpers import assert_valid

from .contract import event


@pytest.mark.parametrize(
    ("color", "preset"),
    [("steelblue", "preset7"), ("firebrick", "preset15"), ("gold", "preset3"),
     ("slategray", "preset13"), ("#00ff00", "preset4"), ("no-such-colour", "none")],
)  # fmt: skip
def test_kinds_colours_go_to_the_nearest_outlook_preset(color: str, preset: str) -> None:
    assert preset_for(color) == preset


@pytest.mark.parametrize(
    "rule",
    ["FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE;COUNT=6", "FREQ=DAILY;INTERVAL=1;UNTIL=20270301T235959Z",
     "FREQ=MONTHLY;INTERVAL=1;BYMONTHDAY=5", "FREQ=MONTHLY;INTERVAL=1;BYDAY=-1FR;COUNT=3"],
)  # fmt: skip
def test_rrules_round_trip_through_graph_patterns(rule: str) -> None:
    from datetime import UTC, datetime

    parsed = vRecur.from_ical(rule)
    back = rrule_of(pattern_of(parsed, datetime(2027, 1, 5, 10, tzinfo=UTC)))
    assert _plain(back) == _plain(parsed)


def _plain(rule: vRecur) -> dict[str, list[str]]:
    return {k: [str(v) for v in (vs if isinstance(vs, list) else [vs])] for k, vs in rule.items()}


def test_an_rrule_graph_cannot_say_is_refused_by_name() -> None:
    from datetime import UTC, datetime

    with pytest.raises(RecurrenceError, match="BYSETPOS"):
        pattern_of(vRecur.from_ical("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=2"), datetime.now(UTC))


def test_an_untouched_event_reads_back_byte_for_byte() -> None:
    data = event("same", "Café")
    body = to_graph(data, "same.ics")
    assert "attendees" not in body  # clients are named in calbridge's own mail only
    name, back = from_graph({**body, "id": "x"})
    assert (name, back) == ("same.ics", data)


def test_an_outlook_event_is_valid_icalendar() -> None:
    outlook = {
        "id": "AAMk1",
        "iCalUId": "040000008200E00074C5B7101A82E008",
        "subject": "Team lunch",
        "start": {"dateTime": "2027-03-02T12:00:00.0000000", "timeZone": "UTC"},
        "end": {"dateTime": "2027-03-02T13:00:00.0000000", "timeZone": "UTC"},
        "showAs": "tentative",
        "categories": ["Team"],
        "lastModifiedDateTime": "2027-03-01T08:00:00Z",
    }
    name, data = from_graph(outlook)
    assert name is None
    assert_valid(data)
    assert b"STATUS:TENTATIVE" in data and b"CATEGORIES:Team" in data
