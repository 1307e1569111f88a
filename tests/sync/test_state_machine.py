"""The two-way sync under random edits on both sides, failures and crashes (STYLE.md 3).

One coach, one calendar (``MemoryStore``), three clients: two with room for 40 sessions a
month, and "cy" with one, so some calendar moves break the monthly limit and must be
reverted. The book plans, moves, cancels and answers; the coach's calendar app moves,
deletes and answers events and adds or edits events of its own; the calendar fails
before or after any operation, loses the reply of a write (a crash between the remote
write and the status commit), or forgets its sync tokens. A sync with no failure armed is
run to a quiet pass and then both sides must agree, with nothing lost or duplicated.

The model keeps what the test did and has not yet seen the sync settle (a pending
calendar move, deletion or answer) and what the book's times must be. Times never
collide: every plan and move takes an hour no one used before, so a move can only be
refused for the monthly limit (or, for a Saturday, for working hours).

Run longer with ``HYPOTHESIS_PROFILE=soak``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from icalendar import Component

from calbridge.book import Book, planning
from calbridge.book.requests import EditRequest, PlanRequest
from calbridge.calendars.base import TransientError, resource_name
from calbridge.core.model import ACTIVE, COUNTED, Actor, Session, Status
from calbridge.errors import Refused
from calbridge.sync.engine import CalendarSync, Report
from calbridge.sync.planner import GUARD_MIN
from sync.machine_helpers import (
    CLIENTS,
    HOUR,
    LIMITS,
    LONDON,
    SLOTS,
    WEEKENDS,
    WORKDAY,
    WRITES,
    Books,
    Fault,
    FaultyStore,
    answer_as,
    app_edit,
    foreign_event,
    malformed_event,
    move_to,
    reverts,
    sessions,
    shown,
    uid_in,
)

settings.register_profile(
    "ci", max_examples=200, stateful_step_count=30, deadline=None, print_blob=True
)
settings.register_profile("soak", settings.get_profile("ci"), max_examples=2000)
PROFILE = "soak" if os.environ.get("HYPOTHESIS_PROFILE") == "soak" else "ci"

#: Passes after the first clean one before a sync must have gone quiet.
SETTLE_PASSES = 3
#: Planned actions that may write the session's event.
WRITING = frozenset({"create", "update", "delete", "import"})
Span = tuple[datetime, datetime]
picks = st.integers(min_value=0, max_value=255)
slot_indexes = st.integers(min_value=0, max_value=len(SLOTS) - 1)


def month(moment: datetime) -> str:
    return moment.astimezone(LONDON).strftime("%Y-%m")


def span(session: Session) -> Span:
    return session.start, session.end


@dataclass
class Expected:
    """What the test knows about one session it planned."""

    sid: int
    uid: str
    client: str
    start: datetime  # the book's time, as the test last set or saw it settled
    end: datetime
    cancel_ok: bool = False  # the test cancelled it, or deleted its event
    decline_ok: bool = False  # the client declined it, in the book or in the calendar
    accepted: bool = False  # the client accepted its current time
    # Calendar edits the sync has not settled yet:
    move: Span | None = None
    weekend: bool = False  # that move is to a Saturday: it must be refused
    reverts_before: int = 0  # revert notices the coach had before that move
    deleted: bool = False
    accept_pending: bool = False  # ACCEPTED in the calendar
    decline_pending: bool = False  # DECLINED in the calendar

    @property
    def email(self) -> str:
        return CLIENTS[self.client][1]

    @property
    def href(self) -> str:
        return resource_name(self.uid)


class SyncMachine(RuleBasedStateMachine):
    def __init__(self, books: Books) -> None:
        super().__init__()
        self.book: Book = books.fresh()
        self.coach = self.book.coach("maia")
        self.store = FaultyStore()
        self.model: dict[int, Expected] = {}
        self.used: set[int] = set()
        self.weekends = 0
        self.foreign: dict[str, bytes] = {}  # href -> the bytes the coach's app last wrote
        self.last_before: Mapping[int, Session] = {}  # the book before the last pass

    def teardown(self) -> None:
        self.book.engine.dispose()

    # --- helpers --------------------------------------------------------------------------

    def take(self, index: int) -> datetime:
        """A working hour no session ever used (the first free one from ``index``)."""
        for step in range(len(SLOTS)):
            candidate = (index + step) % len(SLOTS)
            if candidate not in self.used:
                self.used.add(candidate)
                return SLOTS[candidate]
        raise AssertionError("the machine ran out of free hours")

    def pick(self, index: int) -> Expected:
        return self.model[sorted(self.model)[index % len(self.model)]]

    def in_calendar(self) -> list[Expected]:
        items = self.store.items
        return [e for _, e in sorted(self.model.items()) if e.href in items]

    def pick_event(self, index: int) -> Expected | None:
        """A session whose event is in the calendar (None if there is none).

        Rules that need one return early instead of having a precondition: which events
        exist can depend on the order of a pass's actions, which follows random UIDs, and
        Hypothesis needs the choice of rules to replay exactly.
        """
        found = self.in_calendar()
        return found[index % len(found)] if found else None

    def has_sessions(self) -> bool:
        return bool(self.model)

    def refused(self, exc: Refused, client: str, sid: int | None, *codes: str) -> None:
        """The book may refuse only for the limit of a one-a-month client, or a closed session."""
        assert exc.code in codes, exc.message
        if exc.code == "monthly_limit":
            assert LIMITS[CLIENTS[client][2]] == 1, exc.message
        if exc.code == "not_open" and sid is not None:
            assert sessions(self.book)[sid].status not in ACTIVE

    # --- the book -------------------------------------------------------------------------

    @rule(slot=slot_indexes, client=st.sampled_from(sorted(CLIENTS)))
    def plan(self, slot: int, client: str) -> None:
        start = self.take(slot)
        request = PlanRequest("maia", [client], start=start, duration=HOUR)
        try:
            (session,) = planning.plan(self.book, request)
        except Refused as exc:
            self.refused(exc, client, None, "monthly_limit")
            return
        assert session.id is not None
        self.model[session.id] = Expected(session.id, session.uid, client, start, start + HOUR)

    @precondition(has_sessions)
    @rule(pick=picks, slot=slot_indexes, client_requested=st.booleans())
    def move_in_book(self, pick: int, slot: int, client_requested: bool) -> None:
        e = self.pick(pick)
        start = self.take(slot)
        request = EditRequest(start, start + HOUR, client_requested=client_requested)
        try:
            planning.edit(self.book, e.sid, request)
        except Refused as exc:
            self.refused(exc, e.client, e.sid, "monthly_limit", "not_open")
            return
        e.start, e.end, e.accepted = start, start + HOUR, client_requested

    @precondition(has_sessions)
    @rule(pick=picks)
    def cancel_in_book(self, pick: int) -> None:
        e = self.pick(pick)
        try:
            planning.cancel(self.book, e.sid, Actor.ADMIN, "the state machine")
        except Refused as exc:
            self.refused(exc, e.client, e.sid, "not_open")
            return
        e.cancel_ok = True

    @precondition(has_sessions)
    @rule(pick=picks, accept=st.booleans())
    def answer_in_book(self, pick: int, accept: bool) -> None:
        e = self.pick(pick)
        try:
            planning.answer(self.book, e.sid, Actor.CLIENT, accept, e.client)
        except Refused as exc:
            self.refused(exc, e.client, e.sid, "not_open")
            return
        if accept:
            e.accepted = True
        else:
            e.decline_ok = True

    # --- the coach's calendar app ---------------------------------------------------------

    @rule(
        pick=picks,
        slot=slot_indexes,
        minutes=st.sampled_from([30, 60]),
        zone=st.sampled_from([None, LONDON]),
    )
    def move_in_calendar(self, pick: int, slot: int, minutes: int, zone: ZoneInfo | None) -> None:
        e = self.pick_event(pick)
        if e is None:
            return
        start = self.take(slot)
        self._calendar_move(e, (start, start + timedelta(minutes=minutes)), zone, weekend=False)

    @rule(pick=picks)
    def move_to_a_saturday_in_calendar(self, pick: int) -> None:
        e = self.pick_event(pick)
        if e is None:
            return
        start = WEEKENDS[self.weekends % len(WEEKENDS)]
        self.weekends += 1
        self._calendar_move(e, (start, start + HOUR), LONDON, weekend=True)

    def _calendar_move(self, e: Expected, to: Span, zone: ZoneInfo | None, weekend: bool) -> None:
        app_edit(self.store, e.href, move_to(*to, zone))
        e.move, e.weekend, e.reverts_before = to, weekend, reverts(self.book, e.sid)

    @rule(pick=picks)
    def delete_in_calendar(self, pick: int) -> None:
        e = self.pick_event(pick)
        if e is None or self.deletions_pending() >= GUARD_MIN - 1:
            return
        item = self.store.items[e.href]
        with self.store.app() as app:
            app.delete(e.href, item.etag)
        e.deleted = e.cancel_ok = True
        e.move, e.accept_pending, e.decline_pending = None, False, False

    def deletions_pending(self) -> int:
        """At most two at a time: the sync's guard holds back more on a full listing."""
        return sum(e.deleted for e in self.model.values())

    @rule(pick=picks, accept=st.booleans())
    def answer_in_calendar(self, pick: int, accept: bool) -> None:
        e = self.pick_event(pick)
        if e is None:
            return
        partstat = "ACCEPTED" if accept else "DECLINED"
        if shown(self.store.items[e.href].data).partstats.get(e.email) == partstat:
            return
        app_edit(self.store, e.href, answer_as(e.email, partstat))
        e.accept_pending, e.decline_pending = accept, not accept
        e.decline_ok = e.decline_ok or not accept

    @rule(slot=slot_indexes, malformed=st.booleans())
    def add_foreign_event(self, slot: int, malformed: bool) -> None:
        n = len(self.foreign)
        href = f"{'broken' if malformed else 'foreign'}-{n}.ics"
        data = (
            malformed_event(SLOTS[slot])
            if malformed
            else foreign_event(f"other-app-{n}", SLOTS[slot], f"Dentist {n}")
        )
        with self.store.app() as app:
            app.create(href, data)
        self.foreign[href] = data

    @precondition(lambda self: bool(self.foreign))
    @rule(pick=picks)
    def edit_foreign_event(self, pick: int) -> None:
        href = sorted(self.foreign)[pick % len(self.foreign)]

        def rename(event: Component) -> None:
            event["SUMMARY"] = f"{event['SUMMARY']} (moved to the afternoon)"

        self.foreign[href] = app_edit(self.store, href, rename)

    # --- the calendar server's failures ---------------------------------------------------

    @rule(kind=st.sampled_from(["listing", "last listing", "fetch", "write"]), pick=picks)
    def sync_while_the_server_fails(self, kind: str, pick: int) -> None:
        """A pass during which the server cannot be reached for one operation: the first
        listing, the listing after the writes, the fetch, or a write to one event."""
        error = TransientError("503 Service Unavailable")
        if kind == "write":
            self.sync_failing(error, pick, after=False)
            return
        operation = "get_many" if kind == "fetch" else "changes"
        self.store.faults.append(Fault(error, frozenset({operation}), skip=kind != "listing"))
        self.sync_failing_as_armed()

    @rule(pick=picks)
    def sync_and_crash_after_a_write(self, pick: int) -> None:
        """A pass that writes a session's event on the server and then dies before it
        commits its status (as if the reply were lost)."""
        self.sync_failing(TransientError("killed"), pick, after=True)

    def sync_failing(self, error: Exception, pick: int, after: bool) -> None:
        """Aim at one of the events the pass is about to write (a dry run says which)."""
        planned = CalendarSync(self.book, self.coach, self.store).run(dry_run=True).actions
        uids = {a["uid"] for a in planned if a["action"] in WRITING}
        targets = [e.href for _, e in sorted(self.model.items()) if e.uid in uids]
        if targets:
            href = targets[pick % len(targets)]
            self.store.faults.append(Fault(error, WRITES, href, after=after))
        self.sync_failing_as_armed()

    def sync_failing_as_armed(self) -> None:
        fired = self.store.fired
        report = self.sync_pass()
        self.store.clear_faults()
        if self.store.fired > fired:
            assert report.error is not None, "a failure of the calendar went unreported"
        else:  # the pass never came to that operation: a clean pass after all
            self.settle(report)

    @rule()
    def expire_tokens(self) -> None:
        self.store.expire_tokens()

    # --- syncing --------------------------------------------------------------------------

    @rule()
    def sync(self) -> None:
        self.settle(self.sync_pass())

    def sync_pass(self) -> Report:
        before = sessions(self.book)
        report = CalendarSync(self.book, self.coach, self.store).run()
        self.after_pass(before, sessions(self.book))
        return report

    def settle(self, report: Report) -> None:
        """Sync until a pass does nothing; then both sides must agree completely."""
        assert report.error is None, report.error
        for _ in range(SETTLE_PASSES):
            if not report.actions and report.held_back is None:
                break
            report = self.sync_pass()
            assert report.error is None, report.error
        else:
            raise AssertionError(f"{SETTLE_PASSES + 1} passes did not settle: {report}")
        self.check_agreement()

    # --- what must hold after every pass, failed or not -------------------------------------

    @invariant()
    def foreign_events_untouched(self) -> None:
        items = self.store.items
        for href, data in self.foreign.items():
            assert href in items, f"calbridge deleted {href}, an event it did not create"
            assert items[href].data == data, f"calbridge changed {href}, not its event"

    @invariant()
    def nothing_duplicated(self) -> None:
        uids = [uid_in(item.data) for item in self.store.items.values()]
        named = [u for u in uids if u is not None]
        assert len(named) == len(set(named)), f"a UID in two resources: {sorted(named)}"

    @invariant()
    def nothing_lost(self) -> None:
        found = sessions(self.book)
        assert sorted(found) == sorted(self.model), "a session appeared or vanished"
        for sid, e in self.model.items():
            session = found[sid]
            assert (session.uid, session.clients) == (e.uid, [e.client])
            if session.status is Status.CANCELLED:
                assert e.cancel_ok, f"session {sid} cancelled, yet no one cancelled or deleted it"
            if session.status is Status.DECLINED:
                assert e.decline_ok, f"session {sid} declined, yet the client never declined"
            if session.status is Status.SCHEDULED:
                assert e.accepted or e.accept_pending, (
                    f"session {sid} is scheduled at {session.start}, a time its client never"
                    " accepted"
                )

    @invariant()
    def book_rules_hold(self) -> None:
        """Whatever came in from the calendar went through the book's rules."""
        active = [s for s in sessions(self.book).values() if s.status in ACTIVE]
        filled: dict[tuple[str, str], int] = {}
        for s in active:
            for client in s.clients:
                filled[client, month(s.start)] = filled.get((client, month(s.start)), 0) + 1
            local = s.start.astimezone(LONDON), s.end.astimezone(LONDON)
            assert local[0].weekday() < 5 and local[0].date() == local[1].date(), s
            assert WORKDAY[0] <= local[0].hour and local[1].hour <= WORKDAY[1], s
        for (client, when), n in filled.items():
            assert n <= LIMITS[CLIENTS[client][2]], f"{client} has {n} sessions in {when}"
        ordered = sorted(active, key=lambda s: s.start)
        for first, second in pairwise(ordered):
            assert first.end <= second.start, f"sessions {first.id} and {second.id} overlap"

    def after_pass(self, before: Mapping[int, Session], after: Mapping[int, Session]) -> None:
        """Settle the model's pending calendar edits that this pass resolved."""
        self.last_before = before
        items = self.store.items
        for sid, e in self.model.items():
            session = after[sid]
            if session.status not in ACTIVE:
                e.move, e.deleted, e.accept_pending, e.decline_pending = None, False, False, False
                continue
            item = items.get(e.href)
            if item is None:
                continue  # not created yet, or deleted by the coach and not yet cancelled
            assert not e.deleted, f"session {sid}'s event, deleted by the coach, came back"
            there = shown(item.data)
            if (there.start, there.end) != span(session):
                continue  # one side's change has not reached the other yet
            if e.move is not None:
                self.resolve_move(e, before[sid], session)
            assert span(session) == (e.start, e.end), (
                f"session {sid} is at {session.start} in both book and calendar, but the test"
                f" put it at {e.start} and no one moved it since"
            )
            if there.partstats.get(e.email) == partstat(session, e.client):
                if e.accept_pending:
                    e.accepted, e.accept_pending = session.status is Status.SCHEDULED, False
                assert not e.decline_pending, f"the client's decline of {sid} was lost"

    def resolve_move(self, e: Expected, before: Session, session: Session) -> None:
        assert e.move is not None
        if span(session) == e.move:
            assert not e.weekend, f"session {e.sid} was moved to a Saturday"
            e.start, e.end, e.accepted = *e.move, False
        else:
            assert span(session) == (e.start, e.end), (
                f"session {e.sid}: the coach moved it to {e.move[0]}, the book has"
                f" {session.start}, the test expected {e.start}"
            )
            assert reverts(self.book, e.sid) > e.reverts_before, (
                f"the coach's move of session {e.sid} to {e.move[0]} was undone without a"
                " rule refusing it (no revert notice)"
            )
            assert e.weekend or self.over_limit(e, e.move[0]), (
                f"the coach's move of session {e.sid} to {e.move[0]} was refused, but"
                f" {e.client}'s month had room"
            )
        e.move = None

    def over_limit(self, e: Expected, start: datetime) -> bool:
        """Moving ``e`` to ``start`` overfills its client's month, before or after the pass
        (sessions an earlier import moved in, or a later one moved out, both count)."""
        if month(start) == month(e.start):
            return False
        limit = LIMITS[CLIENTS[e.client][2]]
        for state in (self.last_before, sessions(self.book)):
            others = [
                s
                for s in state.values()
                if s.id != e.sid
                and e.client in s.clients
                and s.status in COUNTED
                and month(s.start) == month(start)
            ]
            if len(others) >= limit:
                return True
        return False

    # --- what must hold once a clean sync settled ------------------------------------------

    def check_agreement(self) -> None:
        found = sessions(self.book)
        items = self.store.items
        for href, item in items.items():
            uid = uid_in(item.data)
            ours = [e for e in self.model.values() if e.uid == uid]
            assert href in self.foreign or ours, f"{href} ({uid}) belongs to no one"
        for sid, e in self.model.items():
            session = found[sid]
            if session.status not in ACTIVE:
                assert e.href not in items, f"{session.status} session {sid} is still shown"
                continue
            assert not e.deleted, f"session {sid}: its event was deleted, yet it is active"
            assert e.move is None, f"session {sid}: the coach's move was never settled"
            assert not (e.accept_pending or e.decline_pending), f"{sid}: an answer is pending"
            assert e.href in items, f"active session {sid} has no event"
            there = shown(items[e.href].data)
            assert (there.start, there.end) == span(session) == (e.start, e.end), sid
            assert there.partstats == {e.email: partstat(session, e.client)}, sid
            tentative = session.status is Status.REQUESTED and session.sequence > 0
            assert there.status == ("TENTATIVE" if tentative else "CONFIRMED"), sid


def partstat(session: Session, client: str) -> str:
    return next(p.partstat for p in session.participants if p.party_id == client)


def test_sync_state_machine(tmp_path: Path) -> None:
    books = Books(tmp_path)
    run_state_machine_as_test(lambda: SyncMachine(books), settings=settings.get_profile(PROFILE))
