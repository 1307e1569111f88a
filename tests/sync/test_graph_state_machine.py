"""The sync state machine (test_state_machine.py) on the fake Graph server.

The same rules, faults and invariants, with the coach working in Outlook: moves, deletions,
notes, locations, reminders, repeat rules and the coach's own events go through Graph's
fields (graph_machine.py). Left out, because Outlook cannot make them: a client's answer in
the calendar (clients are never Graph attendees; their answers come by mail), an event
without a UID, an X- property, and events repeating every second or minute (Graph's
patterns repeat daily at most; those stay in the busy calendar). Fewer examples than the
CalDAV-less machine: each pass is HTTP on loopback.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.internal.conjecture import engine as conjecture
from hypothesis.stateful import rule, run_state_machine_as_test
from icalendar import Component

from calbridge.book import planning
from calbridge.book.requests import EditRequest
from calbridge.calendars.base import resource_name
from calbridge.core.model import Actor
from calbridge.sync.engine import Report
from calbridge.sync.planner import Decision
from hostile_events import RULES
from icsguard.inline import StepCheck
from servers.graph_server import FakeGraph, serve_graph
from servers.graph_state import Mailbox
from sync.graph_machine import GraphCalendar
from sync.machine_helpers import HOUR, SLOTS, Books, Pair, app_edit, foreign_event, move_to
from sync.test_state_machine import CI_SHRINK_SECONDS, PROFILE, SyncMachine, picks, slot_indexes

settings.register_profile("graph-ci", settings.get_profile("ci"), max_examples=40)
settings.register_profile("graph-soak", settings.get_profile("ci"), max_examples=400)
GRAPH_PROFILE = "graph-soak" if os.environ.get("HYPOTHESIS_PROFILE") == "soak" else "graph-ci"


class GraphSyncMachine(SyncMachine):
    fake: FakeGraph  # set by the test: one server, a fresh mailbox per example

    def __init__(self) -> None:
        super().__init__()
        self.fake.mailbox = Mailbox()
        self.fake.categories.clear()
        self.fake.rounds.clear()
        self.store = GraphCalendar(self.fake)  # type: ignore[assignment]

    def teardown(self) -> None:
        self.store.close()  # type: ignore[attr-defined]
        super().teardown()

    def sync_pass(self, decision: Decision | None = None) -> Report:
        """On Graph the one edit the sync cannot see is wider than on CalDAV: an event whose
        create was never confirmed and that the coach deleted is reported by a delta under
        Graph's id, which calbridge never learned for that create; it sends the event again
        rather than cancel a session no one may have cancelled (README, Outlook limits)."""
        self.allow_deleted_unconfirmed_back()
        return super().sync_pass(decision)

    @rule(status=st.sampled_from([429, 503, 504]), skip=st.integers(min_value=0, max_value=8))
    def sync_while_throttled(self, status: int, skip: int) -> None:
        """Graph throttles one request of a pass (after ``skip`` others), with Retry-After:
        the request is sent again and the pass completes as if nothing happened."""
        self.fake.throttle, self.fake.throttle_skip = [(status, "0")], skip
        try:
            report = self.sync_pass()
        finally:
            self.fake.throttle, self.fake.throttle_skip = [], 0
        self.settle(report)

    # Outlook cannot change a client's PARTSTAT: clients are not Graph attendees.
    def answer_in_calendar(self, pick: int, accept: bool) -> None:  # type: ignore[override]
        raise AssertionError("not a rule on Graph")

    @rule(pick=picks, what=st.sampled_from(["LOCATION", "VALARM"]))
    def annotate_in_calendar(self, pick: int, what: str) -> None:
        """The coach adds a location or a reminder in Outlook: it must survive."""
        e = self.pick_event(pick)
        if e is None or what in e.added:
            return
        super().annotate_in_calendar(pick, what)
        if what == "VALARM":  # Graph's reminder has no text of its own: its trigger shows
            e.added[what] = "TRIGGER:-PT15M"

    @rule(slot=slot_indexes)
    def add_foreign_event(self, slot: int) -> None:  # type: ignore[override]
        """An event the coach makes in Outlook (busy time; never touched by calbridge)."""
        n = len(self.foreign)
        data = foreign_event(f"other-app-{n}", self.take(slot), f"Dentist {n}")
        with self.store.app() as app:
            item = app.create(f"foreign-{n}.ics", data)
        self.foreign[item.href] = item.data

    @rule(pick=picks)
    def edit_foreign_event(self, pick: int) -> None:
        if not self.foreign:
            return
        href = sorted(self.foreign)[pick % len(self.foreign)]

        def rename(event: Component) -> None:
            event["SUMMARY"] = f"{event['SUMMARY']} (moved to the afternoon)"

        app_edit(self.store, href, rename)
        self.foreign[href] = self.store.items[href].data

    @rule(slot=slot_indexes, kind=st.sampled_from(RULES))
    def add_unbounded_event(self, slot: int, kind: str) -> None:  # type: ignore[override]
        super().add_unbounded_event(slot, kind, in_busy_calendar=True)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeGraph]:
    with serve_graph() as graph:
        yield graph


def test_sync_state_machine_on_graph(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake: FakeGraph
) -> None:
    if PROFILE == "ci":
        monkeypatch.setattr(conjecture, "MAX_SHRINKING_SECONDS", CI_SHRINK_SECONDS)
    with StepCheck() as stored:

        class Machine(GraphSyncMachine):
            books = Books(tmp_path)

        Machine.fake = fake
        Machine.stored = stored
        run_state_machine_as_test(Machine, settings=settings.get_profile(GRAPH_PROFILE))


# --- what the machine found on Graph, as plain tests -------------------------------------

T0, T1, T2 = SLOTS[0], SLOTS[10], SLOTS[20]


class GraphPair(Pair):
    """``Pair`` (machine_helpers.py) on the fake Graph server."""

    def __init__(self, books: Books, fake: FakeGraph) -> None:
        super().__init__(books)
        fake.mailbox = Mailbox()
        self.store = GraphCalendar(fake)  # type: ignore[assignment]


@pytest.fixture
def pair(tmp_path: Path, fake: FakeGraph) -> Iterator[GraphPair]:
    made = GraphPair(Books(tmp_path), fake)
    yield made
    made.store.close()  # type: ignore[attr-defined]
    made.book.engine.dispose()


@pytest.mark.parametrize("how", ["cancel", "decline"])
def test_a_session_closed_after_a_crashed_create_leaves_outlook(pair: GraphPair, how: str) -> None:
    """The create reached Graph, its reply was lost. Graph names the event by its own id,
    not by the name calbridge sent: the next pass (a delta since an earlier one) took the
    event for a second copy of the session's, and it stayed in Outlook for good."""
    pair.plan(T2)
    pair.sync()  # a delta token: the pass after the crash lists changes only
    s = pair.plan(T0)
    pair.sync_and_crash_after_a_write()
    if how == "cancel":
        planning.cancel(pair.book, s.id or 0, Actor.ADMIN)
    else:
        planning.answer(pair.book, s.id or 0, Actor.CLIENT, False, "ana")
    assert pair.sync().error is None
    pair.sync()
    assert pair.event(s) is None


def test_a_book_move_after_a_crashed_create_reaches_outlook(pair: GraphPair) -> None:
    pair.plan(T2)
    pair.sync()
    s = pair.plan(T0)
    pair.sync_and_crash_after_a_write()
    planning.edit(pair.book, s.id or 0, EditRequest(T1, T1 + HOUR))
    assert pair.sync().error is None
    assert pair.sync().actions == []
    assert pair.shown(s).start == T1
    assert len(pair.store.items) == 2


@pytest.mark.parametrize("edit", ["move", "stretch"])
def test_an_outlook_edit_after_a_crashed_create_settles_after_a_failed_write(
    pair: GraphPair, edit: str
) -> None:
    """The create's reply was lost, the coach moved the event, and the pass that took the
    move in failed to write the book's version back. The status kept the name the create
    was sent as (Graph's href is the event's id): every later pass PATCHed that name,
    found the event by its extended property, and never settled."""
    pair.plan(T2)
    pair.sync()
    s = pair.plan(T0)
    pair.sync_and_crash_after_a_write()
    end = T1 + HOUR if edit == "move" else T1
    app_edit(pair.store, resource_name(s.uid), move_to(T1, end, None))
    pair.sync_with_a_failed_write()
    assert pair.sync().error is None
    assert pair.sync().actions == []
    want = (T1, T1 + HOUR) if edit == "move" else (T0, T0 + HOUR)
    assert pair.session(s).span == want
    assert (pair.shown(s).start, pair.shown(s).end) == want
