"""A Graph coach's free/busy (getSchedule) as busy time, on the fake Graph server: busy and
tentative items block planning and slots, free ones don't; throttling is waited out; an
error answer is logged and the pass goes on with the busy time read before."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from calbridge.book import Book, views
from calbridge.sync.run import sync_all
from servers.graph_server import FakeGraph, serve_graph
from sync.test_busy import busy_book, refused

ME = "maia@practice.example"  # the coach's address (base_config)


def at(day: str, hours: tuple[int, int], **fields: Any) -> dict[str, Any]:
    return {
        "start": {"dateTime": f"{day}T{hours[0]:02d}:00:00", "timeZone": "UTC"},
        "end": {"dateTime": f"{day}T{hours[1]:02d}:00:00", "timeZone": "UTC"},
        **fields,
    }


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    with serve_graph() as fake:
        fake.schedules[ME] = "calendar"  # the coach's default Outlook calendar
        box = fake.mailbox
        box.create("calendar", at("2026-12-08", (10, 11), subject="Board meeting"))
        box.create("calendar", at("2026-12-09", (10, 11), subject="Maybe", showAs="tentative"))
        box.create("calendar", at("2026-12-10", (10, 11), subject="Lunch?", showAs="free"))
        box.create("calendar", at("2026-12-11", (13, 15), subject="Away", showAs="oof"))
        yield fake


def graph_coach(make_book: Callable[..., Book], graph: FakeGraph, **busy: Any) -> Book:
    """Maia syncs sessions to a Graph calendar; her default calendar's free/busy is busy
    time, read with the same sign-in (no credentials of its own)."""
    book = busy_book(make_book, [{"kind": "graph", "url": schedule_url(graph), **busy}])
    book.settings.coaches[0].calendar = _calendar(graph)
    return book


def schedule_url(graph: FakeGraph) -> str:
    return f"{graph.url}/v1.0/me/calendar/getSchedule"


def _calendar(graph: FakeGraph) -> Any:
    from calbridge.config.coaches import CalendarSettings

    return CalendarSettings(url=graph.calendar_url(), kind="graph")


def test_free_busy_blocks_slots_and_planning(
    make_book: Callable[..., Book], graph: FakeGraph
) -> None:
    book = graph_coach(make_book, graph)
    reports, (busy,) = sync_all(book, "maia")
    assert busy.error is None and busy.blocks == 3 and reports[0].error is None
    slots = views.slots(book, "maia", "dee", "2026-12", None)["slots"]
    starts = [s["start"][:16] for s in slots]
    assert "2026-12-08T10:00" not in starts and "2026-12-09T10:00" not in starts
    assert "2026-12-10T10:00" in starts and "2026-12-08T11:00" in starts
    assert refused(book, "2026-12-08T10:00")  # busy
    assert refused(book, "2026-12-09T10:30")  # tentative: busy, as TENTATIVE events are
    assert not refused(book, "2026-12-10T10:00")  # show-as free (planned: a session now)
    assert refused(book, "2026-12-11T14:00")  # out of office
    asked = [r for r in graph.requests if r.endswith("/getSchedule")]
    assert asked and all(r == "POST /v1.0/me/calendar/getSchedule" for r in asked)


def test_another_address_and_a_moved_block(
    make_book: Callable[..., Book], graph: FakeGraph
) -> None:
    """``schedule`` names whose free/busy is read; each pass reads it whole again."""
    graph.schedules["maia@clinic.example"] = "clinic"
    event, _ = graph.mailbox.create("clinic", at("2026-12-14", (9, 12), subject="Clinic"))
    book = graph_coach(make_book, graph, schedule="maia@clinic.example")
    sync_all(book, "maia")
    assert refused(book, "2026-12-14T10:00") and not refused(book, "2026-12-08T10:00")
    graph.mailbox.update(event["id"], at("2026-12-15", (9, 12)))
    sync_all(book, "maia")
    assert not refused(book, "2026-12-14T10:00") and refused(book, "2026-12-15T10:00")


def test_throttled_get_schedule_is_retried(
    make_book: Callable[..., Book], graph: FakeGraph
) -> None:
    book = graph_coach(make_book, graph)
    graph.throttle = [(429, "0"), (503, None)]
    _, (busy,) = sync_all(book, "maia")
    assert busy.error is None and graph.throttle == []
    assert refused(book, "2026-12-08T10:00")


@pytest.mark.parametrize("failure", ["unknown address", "http 403"])
def test_an_error_answer_is_logged_and_the_pass_goes_on(
    make_book: Callable[..., Book],
    graph: FakeGraph,
    caplog: pytest.LogCaptureFixture,
    failure: str,
) -> None:
    book = graph_coach(make_book, graph)
    sync_all(book, "maia")  # read once: that busy time stays through the failure
    if failure == "unknown address":
        del graph.schedules[ME]
    else:
        graph.throttle = [(403, None)]  # the next request (getSchedule) is refused
    with caplog.at_level(logging.WARNING):
        reports, (busy,) = sync_all(book, "maia")
    assert busy.error is not None
    assert ("ErrorMailRecipientNotFound" if failure == "unknown address" else "403") in busy.error
    assert reports[0].error is None  # the sessions calendar synced all the same
    assert refused(book, "2026-12-08T10:00")  # the busy time read before is kept
    warned = [r for r in caplog.records if "cannot be read" in r.getMessage()]
    assert warned and not any(r.exc_info for r in caplog.records)


def test_the_free_busy_of_the_sessions_own_default_calendar_is_refused(tmp_path: Any) -> None:
    """Free/busy is a mailbox's default calendar: with the sessions there too, calbridge's
    own sessions (and every move the coach makes in Outlook) would come back as busy time."""
    from calbridge.config.load import build
    from calbridge.errors import ConfigError
    from conftest import base_config

    data = base_config(f"sqlite:///{tmp_path}/book.db")
    root = "https://graph.microsoft.com/v1.0/me/calendar"
    data["coaches"][0]["calendar"] = {"kind": "graph", "url": root}
    data["coaches"][0]["busy"] = [{"kind": "graph", "url": f"{root}/getSchedule"}]
    with pytest.raises(ConfigError) as caught:
        build(data, tmp_path)
    assert "busy[0]" in str(caught.value) and "sessions calendar" in str(caught.value)
    data["coaches"][0]["calendar"]["url"] = "https://graph.microsoft.com/v1.0/me/calendars/s1"
    assert build(data, tmp_path).coaches[0].busy[0].schedule is None  # another calendar: fine
