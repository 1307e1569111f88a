"""Benchmark of the daemon at scale: 500 coach calendars of 20 events each on a real Radicale.

Run: .venv/bin/python bench/scale_bench.py [--coaches N] [--events N] [--concurrency N]
                                            [--rounds N] [--no-postgres] [--json]
(SCALE_BENCH_PROFILE=/path/to/py-spy samples the daemon during the idle cycles.)

Starts its own Radicale (the launcher and configuration of bench/sync_bench.py: fsync off,
warning-level logs) and builds, once, 500 coaches with 20 scheduled sessions each; the
sessions' bodies, rendered as calbridge renders them, are written as UID.ics into each
coach's calendar folder in Radicale's storage, and the same sessions into each book, so the
daemon's first cycle adopts them (status rows, no writes). Then, per book, the real
``calbridge run`` (a subprocess, log level info) runs:

(a) SQLite, one instance: the first cycle (adoption), then idle cycles (``--rounds``, the
    median shown): every lease is made due at once (UPDATE calendar_leases SET
    next_sync_at = now) and the bench waits until every calendar has a newer last_ok_at.
    Printed: wall time of the idle cycle, the daemon's CPU during it (utime + stime from
    /proc/PID/stat) in total and per calendar, and its resident memory (VmRSS) after it.
    Targets: < 10 s wall, < 2 ms CPU per calendar, < 150 MB.
(b) PostgreSQL (a fresh schema on $CALBRIDGE_TEST_POSTGRES_URL), with 1, 2 and 3 instances:
    the same idle cycle's wall time and the instances' total CPU.

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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, update

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import sync_bench
from calbridge.book import Book, parties
from calbridge.calendars.base import resource_name
from calbridge.config.load import build
from calbridge.core.model import Participant, Role, Session, Status
from calbridge.service import wiring
from calbridge.store import repo
from calbridge.store.tables_daemon import CalendarLeaseRow
from calbridge.sync import desired
from cli_helpers import write_config
from pg_schema import scratch_schema

TZ = "Europe/London"
CLIENTS = 20
HOURS = dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), "00:00-24:00")
TICK = os.sysconf("SC_CLK_TCK")
TIMEOUT = 900.0
LOG_LEVEL = os.environ.get("SCALE_BENCH_LOG_LEVEL", "")  # debug: every sync in the logs
PROFILE = os.environ.get("SCALE_BENCH_PROFILE", "")  # a py-spy binary: profile idle cycles


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


def fill_book(book: Book, all_sessions: list[Session]) -> None:
    for k in range(CLIENTS):
        parties.add_client(book, f"Client {k}", f"cl{k:02d}@example.org", "bench", f"cl{k:02d}")
    for lo in range(0, len(all_sessions), 1000):
        with book.transaction() as db:
            for session in all_sessions[lo : lo + 1000]:
                repo.write_session(db, session, book.clock())


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


def copy_status(source: Any, target: Any) -> None:
    """The sync status rows of one book into another holding the same sessions, so the
    second book's first cycle does not adopt every event again (it only checks)."""
    from calbridge.store.tables import CalendarItemRow, CalendarStateRow

    for table in (CalendarStateRow.__table__, CalendarItemRow.__table__):
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
) -> tuple[Book, list[Path]]:
    data = config_data(tmp, db_url, urls, args.concurrency, "i1")
    wiring.install()  # the mail consumer, as the command line installs it
    book = Book.open(build(data, tmp))
    fill_book(book, all_sessions)
    if server is not None:
        fill_calendars(book, server, urls)
    configs = []
    for k in (1, 2, 3):
        configs.append(
            write_config(
                tmp / f"i{k}.toml", config_data(tmp, db_url, urls, args.concurrency, f"i{k}")
            )
        )
    return book, configs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--coaches", type=int, default=500)
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3, help="idle cycles; the median is shown")
    parser.add_argument("--no-postgres", action="store_true")
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
        with sync_bench.radicale(tmp) as server:
            t0 = time.monotonic()
            ids = coach_ids(n)
            urls = {cid: sync_bench.new_calendar(server, cid) for cid in ids}
            all_sessions = sessions(ids, args.events)
            (tmp / "sqlite").mkdir()
            book, configs = prepare(
                tmp / "sqlite",
                f"sqlite:///{tmp / 'sqlite' / 'book.db'}",
                urls,
                args,
                all_sessions,
                server,
            )
            results["setup_s"] = time.monotonic() - t0
            print(
                f"setup: {n} calendars x {args.events} events in {results['setup_s']:.1f} s",
                flush=True,
            )

            daemon = Daemon(configs[0], tmp / "sqlite" / "daemon.log")
            try:
                started = datetime.now(UTC) - timedelta(seconds=5)
                first = wait_synced(book.engine, n, started, "first cycle")
                cpu_first = daemon.cpu()
                results["first_cycle_s"] = first
                print(
                    f"sqlite, first cycle (adopts {n * args.events} events): {first:.1f} s,"
                    f" process CPU so far {cpu_first:.1f} s",
                    flush=True,
                )
                idle = idle_cycle(book.engine, [daemon], n, args.rounds)
                idle["rss_mb"] = daemon.rss_mb()
                results["sqlite_idle"] = idle
                print(
                    f"sqlite, idle cycle over {n} calendars: {idle['wall_s']:.2f} s wall"
                    f" (target < 10), CPU {idle['cpu_s']:.2f} s ="
                    f" {idle['cpu_ms_per_calendar']:.2f} ms per calendar (target < 2),"
                    f" RSS {idle['rss_mb']:.0f} MB (target < 150); median of {args.rounds}"
                    f" cycles, ms per calendar: {idle['rounds_cpu_ms_per_calendar']}",
                    flush=True,
                )
            finally:
                results["sqlite_exit"] = daemon.stop()
            book.engine.dispose()

            with postgres_schema() as pg_url:
                if pg_url is None or args.no_postgres:
                    print("postgresql: skipped (set CALBRIDGE_TEST_POSTGRES_URL)")
                else:
                    (tmp / "pg").mkdir()
                    book, configs = prepare(tmp / "pg", pg_url, urls, args, all_sessions, None)
                    sqlite_book = create_engine(f"sqlite:///{tmp / 'sqlite' / 'book.db'}")
                    copy_status(sqlite_book, book.engine)
                    sqlite_book.dispose()
                    daemons: list[Daemon] = []
                    try:
                        for k in (1, 2, 3):
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
                            results[f"postgres_{k}_instances"] = idle
                            print(
                                f"postgresql, {k} instance(s): idle cycle {idle['wall_s']:.2f} s"
                                f" wall, CPU {idle['cpu_s']:.2f} s in total ="
                                f" {idle['cpu_ms_per_calendar']:.2f} ms per calendar"
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
