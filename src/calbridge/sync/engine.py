"""One sync pass over one coach's sessions calendar: list, plan, execute, record.

Each action writes the calendar first and then its status row in its own transaction, so
a crash between the two is repaired by the next pass (the planner adopts the write). The
server's token and the change-log cursor only advance when every action went through.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from itertools import groupby
from typing import Any

from calbridge.book import Book
from calbridge.calendars.base import CalendarStore, Item, StorageError, resource_name
from calbridge.calendars.writes import create_each
from calbridge.config.schema import Coach
from calbridge.errors import PreconditionFailed
from calbridge.events.spec import closure_uid
from calbridge.ical.build import fingerprint
from calbridge.progress import track
from calbridge.sync import guard, preview, recovery, status
from calbridge.sync.edits import CalendarEdits
from calbridge.sync.planner import Action, Decision, Guard, Kind, Plan, Remote, plan
from calbridge.sync.reading import CalendarReading
from calbridge.sync.report import Gathered
from calbridge.sync.report import Report as Report

log = logging.getLogger(__name__)
#: Created events whose status rows are committed together.
STATUS_BATCH = 200
#: Actions that may write to the calendar (an import says itself whether it pushed the
#: book's version back).
WRITES = frozenset({Kind.CREATE, Kind.UPDATE, Kind.DELETE, Kind.CANCEL})
#: What a progress bar over a run of actions other than creates says they do, in order.
VERBS = {
    Kind.UPDATE: "updating",
    Kind.DELETE: "deleting",
    Kind.IMPORT: "reading back",
    Kind.CANCEL: "reading back",
    Kind.ADOPT: "matching",
    Kind.FORGET: "forgetting",
}


class CalendarSync(CalendarReading, CalendarEdits):
    def __init__(
        self,
        book: Book,
        coach: Coach,
        store: CalendarStore,
        known: tuple[status.State, int] | None = None,
        decision: Decision | None = None,
    ) -> None:
        """``known``: the calendar's state and the change log's end, read by the caller in
        the transaction that took this calendar's lease (saves a transaction when idle)."""
        self.book = replace(book, origin=f"sync:{coach.id}")
        self.coach = coach
        self.store = store
        self.known = known
        self.decision = decision
        self.calendar_id = coach.id
        self.dry_run = False
        self.wrote = False
        self._intended: set[tuple[str, bytes]] = set()
        self._created: list[tuple[str, str, str, str, bytes]] = []

    def run(self, dry_run: bool = False) -> Report:
        self.dry_run = dry_run
        report = Report(self.calendar_id, dry_run=dry_run)
        try:
            got = self._gather(report)
            rules = guard.guard_for(self.book, got.state, got.total, self.decision)
            decided = plan(got.wanted, got.known, got.remote, got.deleted, got.listing.full, rules)
            if decided.held_back is not None:
                report.held_back = guard.explain(self.coach, decided.held_back)
            if dry_run:
                report.actions = [_describe(a) for a in decided.actions]
                held = _held(got, rules) if decided.held_back is not None else []
                report.planned = preview.planned(self.book, self.coach, decided.actions, held, got)
                return report
            guard.record(self.book, self.coach, got.state, decided.held_back)
            complete = self._execute(decided, got, report)
            self._finish(got, complete and decided.held_back is None)
        except StorageError as exc:
            report.error = f"{type(exc).__name__}: {exc}"
            report.retry_after = getattr(exc, "retry_after", None)
            log.warning("sync of %s failed: %s", self.calendar_id, report.error)
            if not dry_run:
                with self.book.transaction() as db:
                    status.record_error(db, self.calendar_id, self.book.clock(), report.error)
        return report

    # --- acting ---------------------------------------------------------------------------

    def _execute(self, decided: Plan, got: Gathered, report: Report) -> bool:
        complete = True
        self.wrote = False
        self._intend(decided.actions, got.listing.token)
        try:
            for creates, run in groupby(decided.actions, key=_is_create):
                if creates:  # sent together, several at a time (calendars/writes.py)
                    complete = self._create_run(list(run), got, report) and complete
                    continue
                others = list(run)
                steps = iter(track(others, _label(self.calendar_id, others), len(others)))
                for imports, part in groupby(others, key=lambda a: a.kind is Kind.IMPORT):
                    if imports:  # taken into the book together (one transaction)
                        complete = self._import_run(list(part), got, report, steps) and complete
                        continue
                    for action in part:
                        next(steps, None)
                        try:
                            self._do(action, got, report)
                        except PreconditionFailed:
                            complete = self._retry(action, got, report) and complete
                        report.actions.append(_describe(action))
        finally:
            self._flush_created()
        foreign = [
            (uid, Item(there.href, there.etag, there.data))
            for uid, there in got.remote.items()  # not ours, and not matched
            if uid not in got.known and uid not in got.wanted and there.data
        ]
        self._remember_foreign(foreign, got.foreign_gone)
        return complete

    def _create_run(self, run: list[Action], got: Gathered, report: Report) -> bool:
        """Send a run of creates (up to ``sync.parallel_writes`` in flight) and record each
        as it lands; a lost race is re-planned like any 412, another error ends the pass."""
        for action in run:
            self._intend_one(action)
        self.wrote = True
        items = [(_name(a.uid), a.data or b"") for a in run]
        parallel = self.book.settings.sync.parallel_writes
        lost: set[int] = set()
        failed: StorageError | None = None
        sent = create_each(self.store, items, parallel)
        for index, outcome in track(sent, f"{self.calendar_id}: creating events", len(items)):
            action = run[index]
            if isinstance(outcome, PreconditionFailed):
                lost.add(index)
            elif isinstance(outcome, StorageError):
                failed = outcome
            else:
                fp, data = action.fingerprint or "", action.data or b""
                self._created.append((action.uid, outcome.href, outcome.etag, fp, data))
                if len(self._created) >= STATUS_BATCH:
                    self._flush_created()
        if failed is not None:
            raise failed
        complete = True
        for index, action in enumerate(run):
            if index in lost:
                complete = self._retry(action, got, report) and complete
            report.actions.append(_describe(action))
        return complete

    def _import_run(
        self, run: list[Action], got: Gathered, report: Report, steps: Iterator[Action]
    ) -> bool:
        """The calendar's edits of a run, taken in in one transaction (``_take_in``), then
        the writes that settle them, each retried once on a lost race like any 412."""
        settled, failed = self._take_in(run, got, report, lambda: next(steps, None))
        complete = True
        for done in settled:
            try:
                self._settle_out(done)
            except PreconditionFailed:
                complete = self._retry(done.action, got, report) and complete
            report.actions.append(_describe(done.action))
        if failed is not None:
            raise failed
        return complete

    def _retry(self, action: Action, got: Gathered, report: Report) -> bool:
        """A 412: the event changed under us. Re-read it and decide again, once."""
        href = action.href or _name(action.uid)
        # One href asked for: the answer is it (under the store's own spelling of the
        # href; a create's is the bare resource name).
        item = next(iter(self.store.get_many([href])), None)
        remote = {}
        if item is not None:
            remote[action.uid] = Remote(
                action.uid, item.href, item.etag, fingerprint(item.data, self.bounds), item.data
            )
        known = {action.uid: got.known[action.uid]} if action.uid in got.known else {}
        wanted = {action.uid: got.wanted[action.uid]} if action.uid in got.wanted else {}
        again = plan(wanted, known, remote, set() if item else {action.uid}, False)
        try:
            for step in again.actions:
                self._do(step, got, report)
        except PreconditionFailed:
            log.info("%s changed again during sync; retrying next pass", action.uid)
            return False
        return True

    def _intend(self, actions: list[Action], token: str | None) -> None:
        """Record every write about to be sent, in one transaction (see status.intend)."""
        writes = [a for a in actions if a.kind in (Kind.CREATE, Kind.UPDATE) and a.data]
        if not writes:
            return
        with self.book.transaction() as db:
            if any(a.kind is Kind.CREATE for a in writes):
                status.keep_recovery(db, self.calendar_id, token)
            status.intend_many(db, self.calendar_id, [_intent(a) for a in writes])
        self._intended = {(a.uid, a.data) for a in writes if a.data is not None}

    def _intend_one(self, action: Action) -> None:
        """The intent of a write not planned at the start of the pass (a retry, a revert)."""
        if (action.uid, action.data) not in self._intended:
            with self.book.transaction() as db:
                self._record_intent(db, action)

    def _record_intent(self, db: Any, action: Action) -> None:
        status.intend(db, self.calendar_id, *_intent(action))

    def _do(self, action: Action, got: Gathered | None, report: Report) -> None:
        with_status = self.book.transaction
        self.wrote = self.wrote or action.kind in WRITES
        if action.kind is Kind.CREATE:
            assert action.data is not None
            fp = action.fingerprint or ""
            self._intend_one(action)
            item = self.store.create(_name(action.uid), action.data)
            self._created.append((action.uid, item.href, item.etag, fp, action.data))
            if len(self._created) >= STATUS_BATCH:
                self._flush_created()
        elif action.kind is Kind.UPDATE:
            assert action.data is not None and action.href and action.etag
            fp = action.fingerprint or ""
            self._intend_one(action)
            etag = self.store.update(action.href, action.data, action.etag)
            with with_status() as db:
                status.remember(
                    db, self.calendar_id, action.uid, action.href, etag, fp, base=action.data
                )
        elif action.kind is Kind.DELETE:
            assert action.href and action.etag
            self.store.delete(action.href, action.etag)
            self._forget(action.uid)
        elif action.kind is Kind.ADOPT:
            assert action.href and action.etag
            with with_status() as db:
                status.remember(
                    db,
                    self.calendar_id,
                    action.uid,
                    action.href,
                    action.etag,
                    action.fingerprint or "",
                    base=action.data or status.KEEP,
                )
        elif action.kind is Kind.FORGET:
            self._forget(action.uid)
        elif action.kind is Kind.CANCEL:
            self._cancel(action.uid)
        elif action.kind is Kind.IMPORT:
            settled, failed = self._take_in([action], got, report)
            for done in settled:
                self._settle_out(done)
            if failed is not None:
                raise failed

    def _flush_created(self) -> None:
        """Record created events' status in one transaction. Losing a batch in a crash is
        harmless: the next pass finds the events by UID and adopts them."""
        if not self._created:
            return
        with self.book.transaction() as db:
            status.remember_many(db, self.calendar_id, self._created)
        self._created = []

    def _forget(self, uid: str) -> None:
        with self.book.transaction() as db:
            status.forget(db, self.calendar_id, uid)

    def _finish(self, got: Gathered, complete: bool) -> None:
        state = got.state
        idle = not self.wrote and got.listing.token == state.token and got.upto == state.cursor
        if complete and idle and not state.fresh and state.error is None and not state.recovery:
            return  # an idle pass: nothing to record (the daemon's lease keeps the time)
        if complete:
            token = (
                recovery.token_after_writes(self.book, self.calendar_id, self.store, got.listing)
                if self.wrote
                else got.listing.token
            )
            state = replace(state, token=token, cursor=got.upto, recovery=None)
        with self.book.transaction() as db:
            status.save_state(db, state, self.book.clock())


def _held(got: Gathered, rules: Guard) -> list[Action]:
    """The cancellations the guard holds: those the plan would make were they accepted."""
    accepted = replace(rules, decision=Decision.ACCEPT)
    everything = plan(got.wanted, got.known, got.remote, got.deleted, got.listing.full, accepted)
    return [a for a in everything.actions if a.kind is Kind.CANCEL]


def _closure_uids(ids: set[int]) -> set[str]:
    return {closure_uid(i) for i in ids}


def _name(uid: str) -> str:
    return resource_name(uid)


def _intent(action: Action) -> tuple[str, str, bytes, str, Remote | None]:
    """status.intend's arguments for a write: uid, href, data, fingerprint, agreed."""
    assert action.data is not None
    href, fp = action.href or _name(action.uid), action.fingerprint or ""
    return action.uid, href, action.data, fp, action.agreed


def _label(calendar_id: str, run: list[Action]) -> str:
    """``maia: updating and deleting events``: the kinds of work in ``run``, for its bar."""
    kinds = {a.kind for a in run}
    verbs = dict.fromkeys(verb for kind, verb in VERBS.items() if kind in kinds)
    return f"{calendar_id}: {' and '.join(verbs) or 'recording'} events"


def _is_create(action: Action) -> bool:
    return action.kind is Kind.CREATE and bool(action.data)


def _describe(action: Action) -> dict[str, Any]:
    return {"action": action.kind.value, "uid": action.uid, "href": action.href}
