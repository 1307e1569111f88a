"""The scheduler's slots: worker threads that sync claimed coaches one after the other.

A slot takes the next coach from the scheduler's queue, syncs it (service/passes.py) and
keeps the outcome; the coaches it finished are given back together, in one transaction
(store/leases.py ``release_many``), when it has ``RELEASE_MAX`` of them, when the oldest
finished ``RELEASE_AFTER`` seconds ago (a slow calendar holds back nobody's next due time
for long), or when the queue runs dry; that transaction also claims the next batch. An
idle coach thus costs its request, and a share of two statements: no thread hop, no
transaction of its own. The ``sync.done`` line of a coach is logged once its lease is
given back (it says when the coach is due next).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from calbridge.logevents import event
from calbridge.service.passes import Result, StoreCache, sync_blocking
from calbridge.store import leases
from calbridge.store.db import Db
from calbridge.store.leases import Outcome
from calbridge.sync import status

if TYPE_CHECKING:
    from calbridge.service.scheduler import Runtime

log = logging.getLogger("calbridge.service")
#: A slot gives back the coaches it finished at least every this many...
RELEASE_MAX = 32
#: ... or seconds after the first of them finished.
RELEASE_AFTER = 0.5

#: A calendar taken, with its sync state and the change log's end as read in the same
#: transaction (CalendarSync's ``known``: an idle pass need not read them again).
Claimed = tuple[str, tuple[status.State, int]]


@dataclass
class Turn:
    """One calendar's sync as its slot saw it (``result`` None: not synced, the coach left
    the configuration while it waited in the queue)."""

    calendar_id: str
    result: Result | None
    seconds: float = 0.0
    ended: float = 0.0  # wall clock


class Slots:
    """The thread side of ``scheduler.Scheduler`` (its state is declared here)."""

    rt: Runtime
    stores: StoreCache
    passes: int
    failures: int
    failed_once: set[str]
    _lock: threading.Lock
    _queue: deque[Claimed]
    _syncing: set[str]
    _held: set[str]
    _releasing: set[str]
    _pending: set[str] | None
    _stop: asyncio.Event | None
    _loop: asyncio.AbstractEventLoop | None
    _avg: float  # seconds per sync, a moving average (how much to claim at once)

    if TYPE_CHECKING:  # from Scheduler

        def wake(self) -> None: ...
        def _claim_in(self, db: Db, now: datetime, n: int) -> list[Claimed]: ...
        def _accept(self, got: list[Claimed]) -> None: ...
        def _wanted(self) -> int: ...
        def _db_failed(self, exc: Exception) -> None: ...

    def _stopping(self) -> bool:
        return self._stop is not None and self._stop.is_set()

    def _work(self) -> None:
        """In a worker thread: sync queued coaches until the queue is empty and nothing
        more is due (or the daemon stops); give every lease taken back on the way."""
        done: list[Turn] = []
        try:
            while True:
                claimed = self._take()
                if claimed is None:
                    more = self._settle(done, refill=not self._stopping())
                    done = []
                    if not more:
                        break
                    continue
                turn = self._turn(claimed)
                done.append(turn)
                if (
                    len(done) >= RELEASE_MAX
                    or turn.ended - done[0].ended >= RELEASE_AFTER
                    or turn.seconds >= RELEASE_AFTER
                ):
                    low = len(self._queue) < self.rt.settings.service.concurrency
                    self._settle(done, refill=low and not self._stopping())
                    done = []
        finally:
            if done:  # only after a bug: the leases are dropped and expire by themselves
                self._forget([t.calendar_id for t in done])
            if self._stopping():
                self.unclaim_queue()

    def _take(self) -> Claimed | None:
        with self._lock:
            if not self._queue or self._stopping():
                return None
            claimed = self._queue.popleft()
            self._syncing.add(claimed[0])
            return claimed

    def _turn(self, claimed: Claimed) -> Turn:
        rt = self.rt
        book = rt.book
        cid, known = claimed
        try:
            if cid not in rt.coach_id_set():
                return Turn(cid, None)
            started = time.monotonic()
            event(log, logging.DEBUG, "sync.start", calendar=cid, owner=rt.owner, ts=time.time())
            try:
                result = sync_blocking(book, book.settings.coach(cid), self.stores, known)
            except Exception as exc:  # a bug or the database: logged, backed off, never fatal
                log.exception("sync of %s crashed", cid)
                result = Result(Outcome(False, f"{type(exc).__name__}: {exc}"))
            seconds = time.monotonic() - started
            self._avg += (seconds - self._avg) / 16
            return Turn(cid, result, seconds, time.time())
        finally:
            with self._lock:
                self._syncing.discard(cid)

    def _settle(self, done: list[Turn], refill: bool) -> bool:
        """Give back the leases of ``done`` in one transaction and, with ``refill``, claim
        more into the queue; True if something was claimed."""
        if not done and not refill:
            return False
        ids = [t.calendar_id for t in done]
        with self._lock:
            self._releasing.update(ids)
        service = self.rt.settings.service
        good = {
            t.calendar_id: service.interval + random.uniform(0, service.jitter)
            for t in done
            if t.result is not None and t.result.outcome.ok
        }
        nexts: dict[str, datetime | None] = {}
        got: list[Claimed] = []
        try:
            with self.rt.book.transaction() as db:
                now = leases.db_now(db)
                nexts.update(leases.release_many(db, good, self.rt.owner, now))
                for t in done:
                    if t.result is not None and not t.result.outcome.ok:
                        nexts[t.calendar_id] = leases.release(
                            db,
                            t.calendar_id,
                            self.rt.owner,
                            now,
                            t.result.outcome,
                            0.0,
                            service.backoff,
                            service.max_backoff,
                        )
                skipped = [t.calendar_id for t in done if t.result is None]
                leases.unclaim(db, skipped, self.rt.owner, now)
                if refill:
                    got = self._claim_in(db, now, self._wanted())
        except Exception as exc:  # the leases expire by themselves; the loop claims again
            self._db_failed(exc)
            got = []
        self._forget(ids)
        self._accept(got)
        for t in done:
            if t.result is not None:
                self._done(t, t.result, nexts.get(t.calendar_id))
        if len(got) > 1:
            self._wake_loop()  # more slots may start
        return bool(got)

    def _forget(self, ids: list[str]) -> None:
        with self._lock:
            self._held.difference_update(ids)
            self._releasing.difference_update(ids)
        self.rt.metrics.leased.set(len(self._held))

    def unclaim_queue(self) -> None:
        """Give back what is still queued, unsynced and still due (the daemon stops)."""
        with self._lock:
            ids = [cid for cid, _ in self._queue]
            self._queue.clear()
        if not ids:
            return
        try:
            with self.rt.book.transaction() as db:
                leases.unclaim(db, ids, self.rt.owner, leases.db_now(db))
        except Exception as exc:  # they expire by themselves
            self._db_failed(exc)
        self._forget(ids)

    def _wake_loop(self) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(self.wake)

    def _done(self, turn: Turn, result: Result, next_at: datetime | None) -> None:
        cid = turn.calendar_id
        m = self.rt.metrics
        m.passes.labels(cid).inc()
        m.requests.labels(cid).inc(result.requests)
        m.duration.observe(turn.seconds)
        with self._lock:
            self.passes += 1
            if not result.outcome.ok:
                self.failures += 1
                self.failed_once.add(cid)
        if not result.outcome.ok:
            m.failures.labels(cid).inc()
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
            next=next_at.isoformat() if next_at else None,
            error=result.outcome.error,
        )
