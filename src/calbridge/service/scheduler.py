"""The calendar scheduler: claim due coaches, sync each in a worker thread, give them back.

The lease table is the shared schedule (see store/leases.py): an instance claims up to
``concurrency`` due coaches, runs the existing blocking sync (busy calendars, then the
sessions calendar) with ``asyncio.to_thread``, and releases each lease with its next due
time: ``interval`` plus random jitter after a good pass, exponential backoff after a failed
one (at least what the server's Retry-After asked). A slow or failing calendar holds one
slot and nothing else. Leases are renewed while syncs run.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from calbridge.book import Book
from calbridge.logevents import event
from calbridge.service.metrics import Metrics
from calbridge.service.notify import Notifier
from calbridge.service.passes import Result, StoreCache, sync_blocking
from calbridge.store import leases
from calbridge.store.db import DatabaseError, Db, ping
from calbridge.store.leases import Outcome
from calbridge.sync import status

log = logging.getLogger("calbridge.service")


@dataclass
class Runtime:
    """What every part of the daemon shares; ``book`` is replaced when SIGHUP reloads."""

    book: Book
    owner: str
    metrics: Metrics
    notifier: Notifier
    on_change: list[Callable[[], None]] = field(default_factory=list)
    _ids_of: tuple[object, list[str], frozenset[str]] | None = field(default=None, repr=False)

    @property
    def settings(self):  # type: ignore[no-untyped-def]  # -> Settings
        return self.book.settings

    def coach_ids(self) -> list[str]:
        """Coaches with a calendar to sync (kept until SIGHUP replaces the settings)."""
        return self._ids()[1]

    def coach_id_set(self) -> frozenset[str]:
        """``coach_ids`` as a set, the same object until the settings are replaced."""
        return self._ids()[2]

    def _ids(self) -> tuple[object, list[str], frozenset[str]]:
        settings = self.book.settings
        if self._ids_of is None or self._ids_of[0] is not settings:
            ids = [c.id for c in settings.coaches if c.calendar or c.busy]
            self._ids_of = (settings, ids, frozenset(ids))
        return self._ids_of


#: A calendar taken, with its sync state and the change log's end as read in the same
#: transaction (CalendarSync's ``known``: an idle pass need not read them again).
Claimed = tuple[str, tuple[status.State, int]]


@dataclass
class Turn:
    """One calendar's sync as its slot saw it, and the calendar the slot took next."""

    result: Result
    seconds: float
    ended: float  # wall clock
    next_at: datetime | None = None  # when the calendar is due again (None: lease lost)
    next: Claimed | None = None


class Scheduler:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.running: dict[str, asyncio.Task[None]] = {}
        self.last_tick = time.monotonic()
        self.db_error: str | None = None
        self.passes = 0
        self.failures = 0
        self.failed_once: set[str] = set()
        self._known: frozenset[str] | None = None
        self._others = False  # the lease table holds coaches this instance does not sync
        self.stores = StoreCache()
        self.releasing: set[str] = set()
        self._wake = asyncio.Event()
        self._status_at = 0.0
        self._stop: asyncio.Event | None = None
        self._pending: set[str] | None = None  # --once: the coaches not yet claimed

    def wake(self) -> None:
        self._wake.set()

    # --- the loop --------------------------------------------------------------------

    async def serve(self, stop: asyncio.Event, once: bool = False) -> None:
        """Until ``stop`` (or, with ``once``, until every coach was synced once)."""
        renewer = asyncio.create_task(self._renew_forever(stop))
        pending: set[str] | None = set(self.rt.coach_ids()) if once else None
        self._stop, self._pending = stop, pending
        give_up = time.monotonic() + self.rt.settings.service.lease + 10
        try:
            while not stop.is_set():
                self.last_tick = time.monotonic()
                self._wake.clear()  # before claiming: a wake while claiming is kept
                if pending is not None and not pending and not self.running:
                    break
                if pending is not None and time.monotonic() > give_up and not self.running:
                    event(
                        log,
                        logging.WARNING,
                        "once.gave_up",
                        calendars=sorted(pending),
                        reason="held by another instance",
                    )
                    break
                free = self.rt.settings.service.concurrency - len(self.running)
                if free > 0:
                    for cid, known in await self._claim(free, pending):
                        if pending is not None:
                            pending.discard(cid)
                        self.running[cid] = asyncio.create_task(self._sync((cid, known)))
                if self.running:  # --once waits a lease time from the last progress
                    give_up = time.monotonic() + self.rt.settings.service.lease + 10
                await _first(stop.wait(), self._wake.wait(), timeout=self.rt.settings.service.poll)
        finally:
            renewer.cancel()

    async def drain(self, grace: float) -> bool:
        """Let the syncs in progress finish (and release); False if ``grace`` ran out."""
        tasks = list(self.running.values())
        if not tasks:
            return True
        _, late = await asyncio.wait(tasks, timeout=grace)
        return not late

    # --- claiming ---------------------------------------------------------------------

    async def _claim(self, free: int, pending: set[str] | None) -> list[Claimed]:
        try:
            got = await asyncio.to_thread(self._claim_blocking, free, pending)
        except DatabaseError as exc:  # the database is away: retried next poll
            self._db_failed(exc)
            return []
        self.db_error = None
        return got

    def _claim_blocking(self, free: int, pending: set[str] | None) -> list[Claimed]:
        with self.rt.book.transaction() as db:
            return self._claim_in(db, leases.db_now(db), free, pending)

    def _claim_in(
        self, db: Db, now: datetime, free: int, pending: set[str] | None
    ) -> list[Claimed]:
        """Claim up to ``free`` due calendars (with ``pending``: those, due or not)."""
        rt = self.rt
        ids = rt.coach_id_set()  # one object per settings: compared by identity, not content
        if ids is not self._known:
            self._others = leases.ensure(db, ids, now)
        if pending is None and self._others:
            candidates = leases.due(db, ids - set(self.running), now, free)
        elif pending is None:
            found = leases.due(db, None, now, free + 16)
            candidates = [c for c in found if c in ids and c not in self.running]
            # Rows of coaches configured elsewhere: filter in SQL from now on.
            self._others = len([c for c in found if c in ids]) < len(found)
        else:
            candidates = sorted(pending - set(self.running))
        got = leases.claim_many(
            db,
            sorted(candidates)[:free],
            rt.owner,
            now,
            rt.settings.service.lease,
            due_only=pending is None,
        )
        self._known = ids
        if not got:
            return []
        upto = status.last_change(db)
        return [(cid, (state, upto)) for cid, state in status.load_states(db, got).items()]

    def _db_failed(self, exc: Exception) -> None:
        message = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        if self.db_error != message:
            event(log, logging.ERROR, "database.error", error=message)
        self.db_error = message

    # --- one slot ----------------------------------------------------------------------

    async def _sync(self, claimed: Claimed | None) -> None:
        """Sync the calendar claimed; then, until nothing is due or the daemon stops, the
        next one this slot claimed in the transaction that gave the last one back. One
        thread hop and one lease transaction per calendar: an idle pass costs little more
        than its request."""
        task = asyncio.current_task()
        while claimed is not None:
            cid = claimed[0]
            self.rt.metrics.leased.set(len(self.running))
            turn = await asyncio.to_thread(self._turn, claimed, not self._stopping())
            self._count(cid, turn.result, turn.seconds)
            self._log_done(cid, turn)
            self.running.pop(cid, None)
            self.releasing.discard(cid)
            claimed = turn.next
            if claimed is not None and task is not None:
                self.running[claimed[0]] = task
        self.rt.metrics.leased.set(len(self.running))
        self._status()
        self.wake()

    def _turn(self, claimed: Claimed, chain: bool) -> Turn:
        """In a worker thread: the sync of ``cid``, then its release and (with ``chain``)
        the claim of the next due calendar, in one transaction."""
        rt = self.rt
        book = rt.book
        cid, known = claimed
        started = time.monotonic()
        event(log, logging.DEBUG, "sync.start", calendar=cid, owner=rt.owner, ts=time.time())
        try:
            result = sync_blocking(book, book.settings.coach(cid), self.stores, known)
        except Exception as exc:  # a bug or the database: logged, backed off, never fatal
            log.exception("sync of %s crashed", cid)
            result = Result(Outcome(False, f"{type(exc).__name__}: {exc}"))
        turn = Turn(result, time.monotonic() - started, time.time())
        service = book.settings.service
        interval = service.interval + random.uniform(0, service.jitter)
        self.releasing.add(cid)
        try:
            with book.transaction() as db:
                now = leases.db_now(db)
                turn.next_at = leases.release(
                    db,
                    cid,
                    rt.owner,
                    now,
                    result.outcome,
                    interval,
                    service.backoff,
                    service.max_backoff,
                )
                if chain:
                    taken = self._claim_in(db, now, 1, self._pending)
                    turn.next = taken[0] if taken else None
        except Exception as exc:  # the lease expires by itself; the loop claims again
            self._db_failed(exc)
            turn.next_at = turn.next = None
        if turn.next is not None and self._pending is not None:
            self._pending.discard(turn.next[0])
        return turn

    def _stopping(self) -> bool:
        return self._stop is not None and self._stop.is_set()

    def _log_done(self, cid: str, turn: Turn) -> None:
        result = turn.result
        level = (
            logging.WARNING
            if not result.outcome.ok
            else (logging.INFO if result.actions else logging.DEBUG)
        )
        event(
            log,
            level,
            "sync.done",
            calendar=cid,
            owner=self.rt.owner,
            ok=result.outcome.ok,
            actions=result.actions,
            requests=result.requests,
            ms=round(turn.seconds * 1000),
            started=round(turn.ended - turn.seconds, 6),
            ts=round(turn.ended, 6),
            next=turn.next_at.isoformat() if turn.next_at else None,
            error=result.outcome.error,
        )

    def _count(self, cid: str, result: Result, seconds: float) -> None:
        m = self.rt.metrics
        m.passes.labels(cid).inc()
        m.requests.labels(cid).inc(result.requests)
        m.duration.observe(seconds)
        self.passes += 1
        if not result.outcome.ok:
            m.failures.labels(cid).inc()
            self.failures += 1
            self.failed_once.add(cid)

    # --- renewal and status -----------------------------------------------------------

    async def _renew_forever(self, stop: asyncio.Event) -> None:
        while True:
            await asyncio.sleep(self.rt.settings.service.lease / 3)
            ids = set(self.running)
            if not ids:
                continue
            try:
                held = await asyncio.to_thread(self._renew_blocking, ids)
            except Exception as exc:
                self._db_failed(exc)
                continue
            for lost in sorted((ids & set(self.running)) - held - self.releasing):
                event(log, logging.ERROR, "lease.lost", calendar=lost, owner=self.rt.owner)

    def _renew_blocking(self, ids: set[str]) -> set[str]:
        with self.rt.book.transaction() as db:
            now = leases.db_now(db)
            return leases.renew(db, ids, self.rt.owner, now, self.rt.settings.service.lease)

    def _status(self) -> None:
        now = time.monotonic()
        if now - self._status_at < 1.0:
            return
        self._status_at = now
        self.rt.notifier.status(
            f"{len(self.rt.coach_ids())} coaches; syncing {len(self.running)};"
            f" {self.passes} passes, {self.failures} failed"
        )

    def ping_database(self) -> None:
        ping(self.rt.book.engine)


async def _first(*waits: object, timeout: float) -> None:
    tasks = [asyncio.ensure_future(w) for w in waits]  # type: ignore[call-overload]
    try:
        await asyncio.wait(tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
