"""Benchmark of the daemon at scale: N coach calendars of 20 events each (issue 14 "Scale").

Run: .venv/bin/python bench/scale_bench.py [--coaches N] [--events N] [--concurrency N]
                                            [--rounds N] [--no-postgres] [--json]
                                            [--server memdav|radicale] [--no-sqlite]
                                            [--instances 1|2|3]
(SCALE_BENCH_PROFILE=/path/to/py-spy samples the daemon during the idle cycles.)

The server is, by default, bench/memdav.py: a light CalDAV server in this process that
answers sync-collection from memory, so that at 10,000 calendars the server is not the
bottleneck (issue 14 allows it). The coaches' sessions go into a SQLite book
(repo.write_session), their bodies, rendered as calbridge renders them (events.spec,
ical.build), into the server, and the sync status is recorded as a completed first sync
leaves it (token, change cursor, a row per event): adopting 200,000 events would take the
bench's whole budget, and only the idle cycle is measured. With ``--server radicale`` it
starts its own Radicale (the launcher and configuration of bench/sync_bench.py), writes the
bodies into each calendar folder in Radicale's storage, and the daemon's first cycle
adopts them (fine at 500 coaches, far too slow at 10,000). Then, per book, the real
``calbridge run`` (a subprocess, log level info) runs:

(a) SQLite, one instance: the first cycle, then idle cycles (``--rounds``, the
    median shown): every lease is made due at once (UPDATE calendar_leases SET
    next_sync_at = now) and the bench waits until every calendar has a newer last_ok_at.
    Printed: wall time of the idle cycle, the daemon's CPU during it (utime + stime from
    /proc/PID/stat) in total and per calendar, and its resident memory (VmRSS) after it.
    Targets (issue 14): <= 30 s wall, <= 1 ms CPU per calendar, <= 300 MB.
(b) PostgreSQL (a fresh schema on $CALBRIDGE_TEST_POSTGRES_URL; with memdav the SQLite
    book's sessions and status are copied into it), with 1, 2 and 3 instances: the same
    idle cycle's wall time, the instances' total CPU, and the first instance's memory.

The interval is an hour and the jitter zero, so no cycle starts by itself during a
measurement; ``--concurrency`` (default 8) is service.concurrency.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, create_engine, func, select, update

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import sync_bench
from calbridge.book import Book, parties
from calbridge.calendars.base import resource_name
from calbridge.calendars.caldav import SYNC
from calbridge.config.load import build
from calbridge.core.model import Participant, Role, Session, Status
from calbridge.core.timeutil import month_of
from calbridge.events.spec import session_spec
from calbridge.ical.build import render_with_fingerprint
from calbridge.ical.model import Person
from calbridge.service import wiring
from calbridge.store import repo
from calbridge.store.tables import CalendarItemRow, CalendarStateRow, ParticipantRow, SessionRow
from calbridge.store.tables_daemon import CalendarLeaseRow
from calbridge.sync import desired, status
from cli_helpers import write_config
from memdav import MemDav
from pg_schema import scratch_schema

TZ = "Europe/London"
CLIENTS = 20
HOURS = dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), "00:00-24:00")
TICK = os.sysconf("SC_CLK_TCK")
TIMEOUT = 900.0
LOG_LEVEL = os.environ.get("SCALE_BENCH_LOG_LEVEL", "")  # debug: every sync in the logs
PROFILE = os.environ.get("SCALE_BENCH_PROFILE", "")
CalendarSessions = cast(Table, SessionRow.__table__)
Parts = cast(Table, ParticipantRow.__table__)  # a py-spy binary: profile idle cycles


def coach_ids(n: int) -> list[str]:
    return [f"coach{k:04d}" for k in range(n)]


def config_data(
    tmp: Path, db_url: str, urls: dict[str, str], concurrency: int, instance: str
) -> dict[str, Any]:
    return {
        "state_dir": str(tmp / "state"),
        "database": {"url": db_url},
        "programs": {"bench": {"monthly_limit": 1000}},
        "http": {"listen": "127.0.0.1:0"},
        "service": {
            "interval": 3600,
            "jitter": 0,
            "concurrency": concurrency,
            "poll": 0.5,
            "lease": 60,
            "instance": instance,
        },
        "coaches": [
            {
                "id": cid,
                "name": f"Coach {cid}",
                "email": f"{cid}@example.org",
                "timezone": TZ,
                "working_hours": HOURS,
                "calendar": {
                    "url": url,
                    "username": sync_bench.USER,
                    "password": sync_bench.PASSWORD,
                },
            }
            for cid, url in urls.items()
        ],
    }


def sessions(ids: list[str], events: int) -> list[Session]:
    """The same sessions for every book: fixed UIDs, from next month on."""
    now = datetime.now(UTC)
    base = (
        now.replace(day=1, hour=9, minute=0, second=0, microsecond=0) + timedelta(days=32)
    ).replace(day=1)
    out = []
    for i, cid in enumerate(ids):
        for k in range(events):
            start = base + timedelta(days=k, minutes=5 * (i % 12))
            out.append(
                Session(
                    uid=f"calbridge-{uuid.UUID(int=i * 1000 + k)}",
                    coach_id=cid,
                    start=start,
                    end=start + timedelta(hours=1),
                    tzid=TZ,
                    participants=[Participant(f"cl{k % CLIENTS:02d}", Role.CLIENT)],
                    status=Status.SCHEDULED,
                )
            )
    return out


def fill_book(book: Book, all_sessions: list[Session]) -> list[Session]:
    """The sessions written, as written: with their ids. The first goes through
    repo.write_session; its rows are the template of the others', inserted in bulk (one
    write_session each, with its flush, took minutes for 200,000)."""
    for k in range(CLIENTS):
        parties.add_client(book, f"Client {k}", f"cl{k:02d}@example.org", "bench", f"cl{k:02d}")
    if not all_sessions:
        return []
    now = book.clock()
    with book.transaction() as db:  # the first through the book's own path: the template
        first = repo.write_session(db, all_sessions[0], now)
    ids = count(first.id)
    session_cols = CalendarSessions.c
    with book.engine.connect() as conn:
        template = dict(
            conn.execute(select(session_cols).where(session_cols.id == first.id)).one()._mapping
        )
        part = dict(
            conn.execute(select(Parts).where(Parts.c.session_id == first.id)).one()._mapping
        )
    written = [replace(all_sessions[0], id=first.id)]
    rows, parts = [], []
    zone = ZoneInfo(TZ)
    for session in all_sessions[1:]:
        sid = next(ids) + 1
        month = month_of(session.start, zone)
        rows.append(
            template
            | {
                "id": sid,
                "uid": session.uid,
                "coach_id": session.coach_id,
                "start": session.start,
                "end": session.end,
                "month": month,
            }
        )
        parts.append(
            part | {"session_id": sid, "party_id": session.participants[0].party_id, "month": month}
        )
        written.append(replace(session, id=sid))
    with book.engine.begin() as conn:  # as write_session writes them, many at a time
        for lo in range(0, len(rows), 5000):
            conn.execute(CalendarSessions.insert(), rows[lo : lo + 5000])
            conn.execute(Parts.insert(), parts[lo : lo + 5000])
    return written


def fill_memdav(book: Book, dav: MemDav, urls: dict[str, str], written: list[Session]) -> None:
    """Each coach's sessions rendered as calbridge renders them (events.spec, ical.build)
    into the in-memory server, and the sync status recorded as a completed first sync
    would leave it (token, cursor, one row per event), so the daemon's first cycle is
    already idle (adopting 200,000 events would be the bench's whole budget)."""
    people = {f"cl{k:02d}": Person(f"Client {k}", f"cl{k:02d}@example.org") for k in range(CLIENTS)}
    colors = book.settings.event_colors()
    items: list[dict[str, Any]] = []
    by_coach: dict[str, list[Session]] = {}
    for session in written:
        by_coach.setdefault(session.coach_id, []).append(session)
    now = book.clock()
    for coach in book.settings.coaches:
        organizer = Person(coach.name, coach.email)
        for session in by_coach.get(coach.id, []):
            spec = session_spec([session], organizer, people, colors, None, coach.video_url)
            assert spec is not None
            data, fp = render_with_fingerprint(spec, now)
            href, etag = dav.put(urls[coach.id], resource_name(session.uid), data)
            items.append(
                {
                    "calendar_id": coach.id,
                    "uid": session.uid,
                    "href": href,
                    "etag": etag,
                    "fingerprint": fp,
                    "foreign": False,
                    "base": data,
                }
            )
    with book.transaction() as db:
        cursor = status.last_change(db)
    states = [
        {"calendar_id": cid, "sync_token": SYNC + dav.token(url), "change_cursor": cursor}
        for cid, url in urls.items()
    ]
    with book.engine.begin() as conn:
        conn.execute(CalendarStateRow.__table__.insert(), states)
        for lo in range(0, len(items), 5000):
            conn.execute(CalendarItemRow.__table__.insert(), items[lo : lo + 5000])


def fill_calendars(book: Book, server: Any, urls: dict[str, str]) -> None:
    """Each coach's sessions, rendered by calbridge, into its Radicale folder."""
    from urllib.parse import urlsplit

    with book.transaction() as db:
        for coach in book.settings.coaches:
            uids = [s.uid for s in repo_sessions(db, coach.id)]
            wanted = desired.wanted_sessions(db, book.settings, coach, uids, book.clock())
            folder = server.data_dir / "collection-root" / urlsplit(urls[coach.id]).path.strip("/")
            for uid, item in wanted.items():
                assert item.data is not None
                (folder / resource_name(uid)).write_bytes(item.data)


def copy_status(source: Any, target: Any, book_too: bool = False) -> None:
    """The sync status rows of one book into another holding the same sessions, so the
    second book's first cycle does not adopt every event again (it only checks);
    ``book_too``: the sessions, their participants and the change log as well (the
    target holds only its clients; its change log stays behind the copied cursors)."""
    tables = [CalendarStateRow.__table__, CalendarItemRow.__table__]
    if book_too:
        tables = [SessionRow.__table__, ParticipantRow.__table__, *tables]
    for table in tables:
        with source.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(select(table))]
        with target.begin() as conn:
            for lo in range(0, len(rows), 2000):
                conn.execute(table.insert(), rows[lo : lo + 2000])


def repo_sessions(db: Any, coach_id: str) -> list[Any]:
    from calbridge.store.tables import SessionRow

    return list(db.scalars(select(SessionRow).where(SessionRow.coach_id == coach_id)))


# --- the daemon ---------------------------------------------------------------------------


class Daemon:
    def __init__(self, config: Path, log: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CALBRIDGE_", "NOTIFY"))}
        self.log = log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "calbridge", "--config", str(config), "run", "--log-json"]
            + (["--log-level", LOG_LEVEL] if LOG_LEVEL else []),
            stdout=self.log,
            stderr=self.log,
            env=env,
        )

    def cpu(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> int:
        self.proc.terminate()
        code = self.proc.wait(60)
        self.log.close()
        return code


def wait_synced(engine: Any, n: int, since: datetime, what: str) -> float:
    """Seconds until ``n`` calendars have a good sync after ``since``; polls the database."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < TIMEOUT:
        with engine.connect() as conn:
            done = conn.scalar(
                select(func.count())
                .select_from(CalendarLeaseRow)
                .where(CalendarLeaseRow.last_ok_at >= since)
            )
        if done >= n:
            return time.monotonic() - t0
        time.sleep(0.05)
    raise RuntimeError(f"{what}: only {done} of {n} calendars synced in {TIMEOUT:.0f} s")


def idle_cycle(engine: Any, daemons: list[Daemon], n: int, rounds: int) -> dict[str, float]:
    """``rounds`` idle cycles; the one with the median CPU (walls and CPUs of all kept)."""
    runs = []
    profiler = profile(daemons[0]) if PROFILE else None
    for _ in range(rounds):
        cpu0 = sum(d.cpu() for d in daemons)
        now = datetime.now(UTC)
        with engine.begin() as conn:
            conn.execute(update(CalendarLeaseRow).values(next_sync_at=now - timedelta(seconds=1)))
        wall = wait_synced(engine, n, now, "idle cycle")
        runs.append((sum(d.cpu() for d in daemons) - cpu0, wall))
        time.sleep(0.5)  # the last releases are in, the loop is idle again
    if profiler is not None:
        profiler.send_signal(signal.SIGINT)
        profiler.wait(30)
    cpu, wall = sorted(runs)[len(runs) // 2]
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "cpu_ms_per_calendar": 1000 * cpu / n,
        "rounds_cpu_ms_per_calendar": [round(1000 * c / n, 2) for c, _ in runs],
    }


def profile(daemon: Daemon) -> subprocess.Popen[bytes]:
    """py-spy (not a dependency: SCALE_BENCH_PROFILE=/path/to/py-spy) sampling the daemon's
    threads into scale-profile.txt (collapsed stacks) while the idle cycles run."""
    argv = [PROFILE, "record", "--pid", str(daemon.proc.pid), "--format", "raw", "--gil"]
    argv += ["--rate", "500", "--output", "scale-profile.txt", "--nonblocking"]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL)


class _Skipped(Exception):
    """The SQLite daemon is not run (--no-sqlite)."""


@contextmanager
def serving(kind: str, tmp: Path) -> Iterator[tuple[Any, MemDav | None]]:
    """Radicale (a process, its storage filled directly) or the in-memory server."""
    if kind == "radicale":
        with sync_bench.radicale(tmp) as server:
            yield server, None
        return
    with MemDav() as dav:
        yield None, dav


@contextmanager
def postgres_schema() -> Iterator[str | None]:
    base = os.environ.get("CALBRIDGE_TEST_POSTGRES_URL")
    if not base:
        yield None
        return
    with scratch_schema(base, "bench") as url:
        yield url


def prepare(
    tmp: Path,
    db_url: str,
    urls: dict[str, str],
    args: argparse.Namespace,
    all_sessions: list[Session],
    server: Any | None,
) -> tuple[Book, list[Path], list[Session]]:
    data = config_data(tmp, db_url, urls, args.concurrency, "i1")
    wiring.install()  # the mail consumer, as the command line installs it
    book = Book.open(build(data, tmp))
    written = fill_book(book, all_sessions)
    if server is not None:
        fill_calendars(book, server, urls)
    configs = []
    for k in (1, 2, 3):
        configs.append(
            write_config(
                tmp / f"i{k}.toml", config_data(tmp, db_url, urls, args.concurrency, f"i{k}")
            )
        )
    return book, configs, written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--coaches", type=int, default=500)
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3, help="idle cycles; the median is shown")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true", help="no daemon on the SQLite book")
    parser.add_argument("--instances", type=int, default=3, choices=(1, 2, 3), help="on PostgreSQL")
    parser.add_argument(
        "--server", choices=("memdav", "radicale"), default="memdav", help="bench/memdav.py"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    n = args.coaches
    results: dict[str, Any] = {
        "coaches": n,
        "events_per_calendar": args.events,
        "concurrency": args.concurrency,
    }
    with tempfile.TemporaryDirectory(prefix="scale-bench-") as name:
        tmp = Path(os.environ.get("SCALE_BENCH_DIR") or name)
        with serving(args.server, tmp) as (server, dav):
            t0 = time.monotonic()
            ids = coach_ids(n)
            if dav is not None:
                urls = {cid: dav.url(cid) for cid in ids}
            else:
                urls = {cid: sync_bench.new_calendar(server, cid) for cid in ids}
            all_sessions = sessions(ids, args.events)
            (tmp / "sqlite").mkdir()
            book, configs, written = prepare(
                tmp / "sqlite",
                f"sqlite:///{tmp / 'sqlite' / 'book.db'}",
                urls,
                args,
                all_sessions,
                server,
            )
            if dav is not None:
                fill_memdav(book, dav, urls, written)
            results["setup_s"] = time.monotonic() - t0
            print(
                f"setup: {n} calendars x {args.events} events in {results['setup_s']:.1f} s"
                f" ({args.server})",
                flush=True,
            )

            daemon = None if args.no_sqlite else Daemon(configs[0], tmp / "sqlite" / "daemon.log")
            try:
                if daemon is None:
                    raise _Skipped
                started = datetime.now(UTC) - timedelta(seconds=5)
                first = wait_synced(book.engine, n, started, "first cycle")
                cpu_first = daemon.cpu()
                results["first_cycle_s"] = first
                print(
                    f"sqlite, first cycle ({n * args.events} events"
                    f" {'known' if args.server == 'memdav' else 'adopted'}): {first:.1f} s,"
                    f" process CPU so far {cpu_first:.1f} s",
                    flush=True,
                )
                idle = idle_cycle(book.engine, [daemon], n, args.rounds)
                idle["rss_mb"] = daemon.rss_mb()
                results["sqlite_idle"] = idle
                print(
                    f"sqlite, idle cycle over {n} calendars: {idle['wall_s']:.2f} s wall"
                    f" (target <= 30), CPU {idle['cpu_s']:.2f} s ="
                    f" {idle['cpu_ms_per_calendar']:.2f} ms per calendar (target <= 1),"
                    f" RSS {idle['rss_mb']:.0f} MB (target <= 300); median of {args.rounds}"
                    f" cycles, ms per calendar: {idle['rounds_cpu_ms_per_calendar']}",
                    flush=True,
                )
            except _Skipped:
                print(
                    "sqlite: the daemon skipped (--no-sqlite); the book is the source of the copy"
                )
            finally:
                results["sqlite_exit"] = daemon.stop() if daemon is not None else None
            book.engine.dispose()

            with postgres_schema() as pg_url:
                if pg_url is None or args.no_postgres:
                    print("postgresql: skipped (set CALBRIDGE_TEST_POSTGRES_URL)")
                else:
                    (tmp / "pg").mkdir()
                    book_too = dav is not None  # copied, not written again
                    book, configs, _ = prepare(
                        tmp / "pg", pg_url, urls, args, [] if book_too else all_sessions, None
                    )
                    sqlite_book = create_engine(f"sqlite:///{tmp / 'sqlite' / 'book.db'}")
                    copy_status(sqlite_book, book.engine, book_too)
                    sqlite_book.dispose()
                    daemons: list[Daemon] = []
                    try:
                        for k in range(1, args.instances + 1):
                            started = datetime.now(UTC)
                            daemons.append(Daemon(configs[k - 1], tmp / "pg" / f"i{k}.log"))
                            if k == 1:
                                wait_synced(
                                    book.engine,
                                    n,
                                    started - timedelta(seconds=5),
                                    "postgres first cycle",
                                )
                            else:
                                time.sleep(3)  # the new instance is up and polling
                            idle = idle_cycle(book.engine, daemons, n, args.rounds)
                            idle["rss_mb"] = daemons[0].rss_mb()
                            results[f"postgres_{k}_instances"] = idle
                            print(
                                f"postgresql, {k} instance(s): idle cycle {idle['wall_s']:.2f} s"
                                f" wall, CPU {idle['cpu_s']:.2f} s in total ="
                                f" {idle['cpu_ms_per_calendar']:.2f} ms per calendar,"
                                f" first instance's RSS {idle['rss_mb']:.0f} MB"
                                f" (median of {args.rounds} cycles)",
                                flush=True,
                            )
                    finally:
                        results["postgres_exits"] = [d.stop() for d in daemons]
                    book.engine.dispose()
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
