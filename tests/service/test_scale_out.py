"""Three ``calbridge run`` instances on one PostgreSQL book, 30 coach calendars on Radicale.

Every calendar is synced; no calendar is ever synced by two instances at once (the sync
intervals each instance logs, with the real clock of this one machine, never overlap);
an instance killed with SIGKILL has its calendars taken over within the lease time.
"""

from __future__ import annotations

import itertools
import signal
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from calbridge.book import Book
from calbridge.config.load import load_config
from calbridge.store.tables_daemon import CalendarLeaseRow
from servers.caldav_servers import CalDAVServer
from service.conftest import coach, daemon_config
from service.helpers import DaemonProcess
from service.test_sync_process import plan_sessions, radicale_calendar

COACHES = 30
LEASE = 5.0


def intervals(
    procs: list[DaemonProcess], killed: DaemonProcess, killed_at: float
) -> dict[str, list[tuple[float, float, str]]]:
    """Per calendar: (start, end, owner) of every sync; the killed one's open sync ends at
    the kill."""
    out: dict[str, list[tuple[float, float, str]]] = defaultdict(list)
    for proc in procs:
        done = proc.of("sync.done")
        for e in done:
            out[e["calendar"]].append((e["started"], e["ts"], e["owner"]))
        if proc is killed:
            finished = {(e["calendar"], round(e["started"], 3)) for e in done}
            for e in proc.of("sync.start"):
                if (e["calendar"], round(e["ts"], 3)) not in finished:
                    out[e["calendar"]].append((e["ts"], killed_at, e["owner"]))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_three_instances_split_30_calendars_and_take_over_a_killed_one(
    db_url: str, radicale: CalDAVServer, tmp_path: Path, write: Callable[..., Path]
) -> None:
    coaches = [coach(f"c{k:02d}", radicale_calendar(radicale, tmp_path)) for k in range(COACHES)]
    base = daemon_config(tmp_path, db_url, coaches, interval=1.5, jitter=0.5, lease=LEASE)
    base["service"]["concurrency"] = 3
    configs = []
    for name in ("i1", "i2", "i3"):
        data: dict[str, Any] = {**base, "service": {**base["service"], "instance": name}}
        configs.append(write(data, f"{name}.toml"))
    for k in range(0, COACHES, 3):  # some calendars get sessions to push, so syncs take time
        plan_sessions(configs[0], f"c{k:02d}", 2)

    procs = [DaemonProcess(c) for c in configs]
    try:
        for p in procs:
            p.wait_event("daemon.started")
        ids = {c["id"] for c in coaches}

        def synced_by_all() -> set[str]:
            return {e["calendar"] for p in procs for e in p.of("sync.done", ok=True)}

        deadline = time.monotonic() + 60
        while synced_by_all() != ids and time.monotonic() < deadline:
            time.sleep(0.2)
        assert synced_by_all() == ids, f"never synced: {sorted(ids - synced_by_all())}"
        owners = {p.of("daemon.started")[0]["instance"]: len(p.of("sync.done")) for p in procs}
        assert all(n > 0 for n in owners.values()), owners  # the work is shared

        # Kill i1 while it is in the middle of syncs (it holds leases).
        victim = procs[0]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if len(victim.of("sync.start")) > len(victim.of("sync.done")):
                break
            time.sleep(0.01)
        victim.proc.send_signal(signal.SIGKILL)
        killed_at = time.time()
        victim.wait(10)
        in_progress = {
            e["calendar"]
            for e in victim.of("sync.start")
            if not any(
                d["calendar"] == e["calendar"] and d["started"] >= e["ts"] - 0.001
                for d in victim.of("sync.done")
            )
        }
        assert in_progress, "the kill did not hit a sync in progress"

        # The survivors take over everything, the killed instance's leases once they expire.
        survivors = procs[1:]

        def synced_since_kill() -> set[str]:
            return {
                e["calendar"]
                for p in survivors
                for e in p.of("sync.done", ok=True)
                if e["started"] > killed_at
            }

        deadline = time.monotonic() + LEASE + 30
        while synced_since_kill() != ids and time.monotonic() < deadline:
            time.sleep(0.2)
        assert synced_since_kill() == ids, f"not taken over: {sorted(ids - synced_since_kill())}"
        for cid in in_progress:
            first = min(
                e["ts"]
                for p in survivors
                for e in p.of("sync.start", calendar=cid)
                if e["ts"] > killed_at
            )
            assert first - killed_at <= LEASE + 2, (cid, first - killed_at)

        for p in survivors:
            p.signal(signal.SIGTERM)
        for p in survivors:
            assert p.wait(30) == 0

        # No overlap: per calendar, each sync starts after the previous one ended.
        per_calendar = intervals(procs, victim, killed_at)
        assert set(per_calendar) == ids
        syncs = 0
        for cid, spans in per_calendar.items():
            spans.sort()
            syncs += len(spans)
            for (s1, e1, o1), (s2, _, o2) in itertools.pairwise(spans):
                assert s2 >= e1, f"{cid}: {o1} synced {s1:.3f}-{e1:.3f}, {o2} from {s2:.3f}"
        assert syncs >= 2 * COACHES

        book = Book.open(load_config(configs[1]))
        with book.transaction() as db:
            rows = list(db.scalars(select(CalendarLeaseRow)))
        book.engine.dispose()
        assert {r.calendar_id for r in rows} == ids
        assert {r.owner for r in rows} == {None}  # all given back at SIGTERM
        assert {r.last_owner for r in rows} <= {"i2", "i3"}  # every lease of i1 taken over
        assert all(r.failures == 0 for r in rows)
    finally:
        for p in procs:
            p.stop()
