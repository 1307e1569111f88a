"""The calendar scheduler: claim due coaches in batches, sync them in slots, give them back.

The lease table is the shared schedule (see store/leases.py): an instance claims due
coaches in one statement, as many as its ``concurrency`` slots get through in about
``QUEUE_SECONDS`` (at least one per slot, at most ``CLAIM_MAX``), into a queue of its own.
Each slot is a worker thread running the existing blocking sync (busy calendars, then the
sessions calendar) of one queued coach after the other (service/slots.py), and gives the
leases back in batches with their next due time: ``interval`` plus random jitter after a
good pass, exponential backoff after a failed one (at least what the server's Retry-After
asked). A slow or failing calendar holds one slot and nothing else. Every lease held
(queued, syncing, finished) is renewed; at stop the queued ones are given back unsynced.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from calbridge.book import Book
from calbridge.logevents import event
from calbridge.service.metrics import Metrics
from calbridge.service.notify import Notifier
from calbridge.service.passes import StoreCache
from calbridge.service.slots import Claimed, Slots
from calbridge.store import leases
from calbridge.store.db import DatabaseError, Db, ping
from calbridge.sync import status

log = logging.getLogger("calbridge.service")
#: A claim queues what the slots get through in about this many seconds...
QUEUE_SECONDS = 0.5
#: ... but at most this many calendars (other instances get their share).
CLAIM_MAX = 64


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


class Scheduler(Slots):
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.last_tick = time.monotonic()
        self.db_error: str | None = None
        self.passes = 0
        self.failures = 0
        self.failed_once: set[str] = set()
        self._known: frozenset[str] | None = None
        self._others = False  # the lease table holds coaches this instance does not sync
        self.stores = StoreCache()
        self._wake = asyncio.Event()
        self._status_at = 0.0
        self._stop: asyncio.Event | None = None
        self._pending: set[str] | None = None  # --once: the coaches not yet claimed
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()  # the sets below are shared with the slots' threads
        self._queue: deque[Claimed] = deque()  # claimed, not started
        self._syncing: set[str] = set()
        self._held: set[str] = set()  # every lease taken and not given back
        self._releasing: set[str] = set()
        self._slots: set[asyncio.Task[None]] = set()
        # Until syncs are measured, a sync is taken to last QUEUE_SECONDS: the first claim
        # is one calendar per slot, so instances starting together share the first cycle.
        self._avg = QUEUE_SECONDS

    @property
    def running(self) -> frozenset[str]:
        """The calendars being synced now."""
        with self._lock:
            return frozenset(self._syncing)

    def wake(self) -> None:
        self._wake.set()

    # --- the loop --------------------------------------------------------------------

    async def serve(self, stop: asyncio.Event, once: bool = False) -> None:
        """Until ``stop`` (or, with ``once``, until every coach was synced once)."""
        self._loop = asyncio.get_running_loop()
        renewer = asyncio.create_task(self._renew_forever(stop))
        pending: set[str] | None = set(self.rt.coach_ids()) if once else None
        self._stop, self._pending = stop, pending
        give_up = time.monotonic() + self.rt.settings.service.lease + 10
        try:
            while not stop.is_set():
                self.last_tick = time.monotonic()
                self._wake.clear()  # before claiming: a wake while claiming is kept
                busy = bool(self._slots or self._queue)
                if pending is not None and not pending and not busy:
                    break
                if pending is not None and time.monotonic() > give_up and not busy:
                    event(
                        log,
                        logging.WARNING,
                        "once.gave_up",
                        calendars=sorted(pending),
                        reason="held by another instance",
                    )
                    break
                free = self.rt.settings.service.concurrency - len(self._slots)
                if free > 0:
                    if len(self._queue) < free:
                        await self._claim()
                    for _ in range(min(free, len(self._queue))):
                        self._start_slot()
                if self._slots:  # --once waits a lease time from the last progress
                    give_up = time.monotonic() + self.rt.settings.service.lease + 10
                self._status()
                await _first(stop.wait(), self._wake.wait(), timeout=self.rt.settings.service.poll)
        finally:
            renewer.cancel()

    def _start_slot(self) -> None:
        task = asyncio.create_task(asyncio.to_thread(self._work))
        self._slots.add(task)
        task.add_done_callback(self._slot_ended)

    def _slot_ended(self, task: asyncio.Task[None]) -> None:
        self._slots.discard(task)
        if not task.cancelled() and task.exception() is not None:
            event(log, logging.ERROR, "slot.crashed", error=repr(task.exception()))
        self.wake()

    async def drain(self, grace: float) -> bool:
        """Let the syncs in progress finish (and release); False if ``grace`` ran out."""
        tasks = list(self._slots)
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=grace)
            if late:
                return False
        await asyncio.to_thread(self.unclaim_queue)
        return True

    # --- claiming ---------------------------------------------------------------------

    def _wanted(self) -> int:
        """How many calendars to claim now: what the slots get through in QUEUE_SECONDS
        (the average sync's length decides), at least one per slot, minus those queued."""
        concurrency: int = self.rt.settings.service.concurrency
        ahead = int(concurrency * QUEUE_SECONDS / max(self._avg, 0.001))
        return max(0, min(CLAIM_MAX, max(ahead, concurrency)) - len(self._queue))

    async def _claim(self) -> None:
        try:
            await asyncio.to_thread(self._claim_blocking)
        except DatabaseError as exc:  # the database is away: retried next poll
            self._db_failed(exc)
            return
        self.db_error = None

    def _claim_blocking(self) -> None:
        with self.rt.book.transaction() as db:
            got = self._claim_in(db, leases.db_now(db), self._wanted())
        self._accept(got)

    def _claim_in(self, db: Db, now: datetime, n: int) -> list[Claimed]:
        """Claim up to ``n`` due calendars (with ``pending``: those, due or not)."""
        rt = self.rt
        ids = rt.coach_id_set()  # one object per settings: compared by identity, not content
        with self._lock:
            held = set(self._held)
            pending = None if self._pending is None else self._pending - held
        if n <= 0:
            return []
        if ids is not self._known:
            self._others = leases.ensure(db, ids, now)
        if pending is None and self._others:
            candidates = leases.due(db, ids - held, now, n)
        elif pending is None:
            found = leases.due(db, None, now, n + 16)
            candidates = [c for c in found if c in ids and c not in held]
            # Rows of coaches configured elsewhere: filter in SQL from now on.
            self._others = len([c for c in found if c in ids]) < len(found)
        else:
            candidates = sorted(pending)
        got = leases.claim_many(
            db,
            sorted(candidates)[:n],
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

    def _accept(self, got: list[Claimed]) -> None:
        """Calendars claimed (their transaction committed) into the queue."""
        if not got:
            return
        ids = [cid for cid, _ in got]
        with self._lock:
            self._held.update(ids)
            self._queue.extend(got)
            if self._pending is not None:
                self._pending.difference_update(ids)
        self.rt.metrics.leased.set(len(self._held))

    def _db_failed(self, exc: Exception) -> None:
        message = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        if self.db_error != message:
            event(log, logging.ERROR, "database.error", error=message)
        self.db_error = message

    # --- renewal and status -----------------------------------------------------------

    async def _renew_forever(self, stop: asyncio.Event) -> None:
        while True:
            await asyncio.sleep(self.rt.settings.service.lease / 3)
            with self._lock:
                ids = set(self._held)
            if not ids:
                continue
            try:
                renewed = await asyncio.to_thread(self._renew_blocking, ids)
            except Exception as exc:
                self._db_failed(exc)
                continue
            with self._lock:  # a queued one lost is not synced; a syncing one finishes
                lost = (ids & self._held) - renewed - self._releasing
                self._queue = deque(c for c in self._queue if c[0] not in lost)
                self._held -= lost - self._syncing
            for cid in sorted(lost):
                event(log, logging.ERROR, "lease.lost", calendar=cid, owner=self.rt.owner)

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
