"""GraphStore: the storage contract against the fake Graph server, and Graph's own ways."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from calbridge.calendars.base import TransientError, resource_name
from calbridge.calendars.davauth import AuthenticationFailed, BearerToken
from calbridge.calendars.graph import GraphStore
from calbridge.calendars.graphmap import UID_PROP
from servers.graph_server import FakeGraph, serve_graph

from .contract import StoreContract, event, summary_of, uid_of


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    with serve_graph() as fake:
        yield fake


class TestGraphStore(StoreContract):
    incremental = True

    @pytest.fixture
    def store(self, graph: FakeGraph) -> Iterator[GraphStore]:
        with GraphStore(graph.calendar_url()) as store:
            yield store


def _store(graph: FakeGraph, **kwargs: Any) -> GraphStore:
    return GraphStore(graph.calendar_url(), **kwargs)


def test_throttling_429_503_504_is_waited_out_honouring_retry_after(graph: FakeGraph) -> None:
    slept: list[float] = []
    with _store(graph, sleep=slept.append) as store:
        graph.throttle = [(429, "2"), (503, None), (504, "1")]
        listing = store.changes(None)
    assert listing.full and listing.changed == {}
    assert slept[0] == 2.0 and slept[2] == 1.0 and len(slept) == 3
    assert graph.throttle == []


def test_a_long_retry_after_is_a_transient_error_carrying_it(graph: FakeGraph) -> None:
    with _store(graph, sleep=lambda _: None) as store:
        graph.throttle = [(429, "120")]
        with pytest.raises(TransientError) as caught:
            store.changes(None)
    assert caught.value.retry_after == 120.0


def test_a_create_whose_reply_was_lost_is_retried_into_one_event(graph: FakeGraph) -> None:
    with _store(graph, sleep=lambda _: None) as store:
        graph.lose_replies = 1
        item = store.create(resource_name("lost"), event("lost", "once"))
        assert store.changes(None).changed == {item.href: item.etag}
    assert len(graph.mailbox.events) == 1
    assert [r for r in graph.requests if r.startswith("POST")] == [
        "POST /v1.0/me/calendars/cal1/events"
    ] * 2


def test_listings_follow_next_links_page_by_page(graph: FakeGraph) -> None:
    with _store(graph, page_size=3) as store:
        made = [store.create(resource_name(f"p{i}"), event(f"p{i}")) for i in range(10)]
        graph.requests.clear()
        listing = store.changes(None)
        assert listing.changed == {i.href: i.etag for i in made}
        assert sum("calendarView/delta" in r for r in graph.requests) == 4  # 3+3+3+1
        for item in made[:7]:
            store.update(item.href, event(item.href, "moved"), item.etag)
        graph.requests.clear()
        assert len(store.changes(listing.token).changed) == 7
        assert sum("calendarView/delta" in r for r in graph.requests) == 3


def test_an_expired_delta_token_gives_a_full_listing(graph: FakeGraph) -> None:
    with _store(graph) as store:
        item = store.create(resource_name("kept"), event("kept"))
        token = store.changes(None).token
        graph.mailbox.expire()
        listing = store.changes(token)
        assert listing.full and listing.changed == {item.href: item.etag}
        assert not store.changes(listing.token).full


def test_without_a_valid_token_graph_answers_401_and_the_store_says_so(graph: FakeGraph) -> None:
    graph.tokens = {"good"}
    with _store(graph, auth=BearerToken("bad")) as store, pytest.raises(AuthenticationFailed):
        store.changes(None)
    with _store(graph, auth=BearerToken("good")) as store:
        assert store.changes(None).full


def test_the_coachs_own_outlook_event_reads_as_icalendar(graph: FakeGraph) -> None:
    body = {
        "subject": "Dentist",
        "start": {"dateTime": "2027-03-02T09:00:00", "timeZone": "UTC"},
        "end": {"dateTime": "2027-03-02T10:00:00", "timeZone": "UTC"},
        "showAs": "busy",
    }
    mine, _ = graph.mailbox.create("cal1", body)
    with _store(graph) as store:
        listing = store.changes(None)
        [item] = store.get_many(list(listing.changed))
    assert item.href == mine["id"] + ".ics"
    assert uid_of(item.data) == mine["iCalUId"] and summary_of(item.data) == "Dentist"
    assert b"DTSTART:20270302T090000Z" in item.data


def test_calbridges_events_carry_their_uid_and_no_attendees(graph: FakeGraph) -> None:
    with _store(graph) as store:
        item = store.create(resource_name("ours@x"), event("ours@x"))
        found = store.by_name(resource_name("ours@x"))
    assert found is not None and found["id"] + ".ics" == item.href
    props = {p["id"]: p["value"] for p in found["singleValueExtendedProperties"]}
    assert props[UID_PROP] == "ours@x"
    assert graph.mailbox.events[found["id"]]["attendees"] == []
    assert graph.mailbox.mail == []


def test_a_new_round_starts_when_less_than_a_year_of_window_is_left(graph: FakeGraph) -> None:
    from datetime import UTC, datetime, timedelta

    now = [datetime(2027, 1, 1, tzinfo=UTC)]
    with _store(graph, now=lambda: now[0]) as store:
        item = store.create(resource_name("far"), event("far"))
        token = store.changes(None).token
        assert token and token.startswith("delta:2028-12-31")  # two years ahead
        now[0] += timedelta(days=300)
        assert not store.changes(token).full
        now[0] += timedelta(days=100)  # the window ends in less than a year: a new round
        listing = store.changes(token)
        assert listing.full and listing.changed == {item.href: item.etag}
        assert listing.token and listing.token.startswith("delta:2030-02-04")


def test_reads_go_20_to_a_batch_and_a_throttled_member_is_fetched_alone(graph: FakeGraph) -> None:
    slept: list[float] = []
    with _store(graph, sleep=slept.append) as store:
        made = [store.create(resource_name(f"b{i}"), event(f"b{i}")) for i in range(45)]
        graph.requests.clear()
        graph.throttle, graph.throttle_skip = [(429, "1")], 3  # the batch, then 2 members pass
        found = store.get_many([i.href for i in made])
        assert [i.href for i in found] == [i.href for i in made]
    batches = [r for r in graph.requests if r == "POST /v1.0/$batch"]
    alone = [r for r in graph.requests if r.startswith("GET") and "$batch" not in r]
    assert len(batches) == 3  # 20 + 20 + 5
    assert len(alone) == 45 + 1  # each member once inside a batch, the throttled one again
    assert slept == []  # sent again alone at once (a 429 then would be waited out)


def test_an_update_or_delete_is_one_request_and_keeps_the_name(graph: FakeGraph) -> None:
    with _store(graph) as store:
        item = store.create(resource_name("one"), event("one"))
        graph.requests.clear()
        etag = store.update(item.href, event("one", "moved"), item.etag)
        assert graph.requests == [f"PATCH /v1.0/me/events/{item.href[:-4]}"]
        found = store.by_name(resource_name("one"))
        assert found is not None and found["id"] + ".ics" == item.href
        graph.requests.clear()
        store.delete(item.href, etag)
        assert graph.requests == [f"DELETE /v1.0/me/events/{item.href[:-4]}"]


SERIES = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//calbridge//tests//EN\r\n"
    b"BEGIN:VEVENT\r\nUID:weekly\r\nDTSTAMP:20260101T000000Z\r\n"
    b"DTSTART:20270104T100000Z\r\nDTEND:20270104T110000Z\r\nRRULE:FREQ=WEEKLY;COUNT=3\r\n"
    b"EXDATE:20270118T100000Z\r\nSUMMARY:Weekly\r\nEND:VEVENT\r\n"
    b"BEGIN:VEVENT\r\nUID:weekly\r\nDTSTAMP:20260101T000000Z\r\n"
    b"RECURRENCE-ID:20270111T100000Z\r\nDTSTART:20270112T140000Z\r\n"
    b"DTEND:20270112T150000Z\r\nSUMMARY:Weekly\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


@pytest.mark.parametrize("throttled", [3, 4])  # the occurrence's PATCH, the cancelled DELETE
def test_a_throttled_write_of_a_series_occurrence_is_waited_out(
    graph: FakeGraph, throttled: int
) -> None:
    """After the master's POST and the instances' GET, a series' moved occurrence is a PATCH
    and its cancelled one a DELETE, neither with If-Match: a 429 on one was not retried, so
    the whole pass failed (TransientError) on Graph's ordinary throttling."""
    with _store(graph, sleep=lambda _: None) as store:
        graph.throttle, graph.throttle_skip = [(429, "0")], throttled - 1
        item = store.create(resource_name("weekly"), SERIES)
        assert graph.throttle == []
        (master,) = graph.mailbox.events.values()
        assert list(master["exceptions"]) == ["20270111T100000Z"]
        assert master["cancelled"] == ["20270118T100000Z"]
        assert item.etag == master["@odata.etag"]
