"""Benchmark of the session book: planning throughput and the monthly-limit check vs book size.

Run: .venv/bin/python bench/book_bench.py [--quick] [--json] [--analyze] [--database-url URL]

Plans 20 sessions per client through the real rule path (planning.plan, availability not
overridden), then times one limit check (checks.monthly_limits) and one full plan at the
base book size and again after growing the book 10x with bulk-written rows (repo.write_session):
history of every client in past months, plus new clients with future sessions.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from calbridge.book import Book, checks, parties, planning
from calbridge.book.requests import PlanRequest
from calbridge.config.load import build
from calbridge.core.model import Client, Participant, Role, Session, Status
from calbridge.core.timeutil import add_months, month_bounds, month_of
from calbridge.service import wiring
from calbridge.store import repo
from calbridge.store.tables import SessionRow
from pg_schema import scratch_schema

TZ = "Europe/London"
ZONE = ZoneInfo(TZ)
HOUR = timedelta(hours=1)
COACHES = 10
PER_CLIENT = 20  # sessions planned per client: 2 a month over 10 months (limit 4)
LIMIT = 4
BATCH = 1000  # bulk-written sessions per transaction


class Slots:
    """Back-to-back one-hour starts per coach and month, so no two sessions of a coach meet."""

    def __init__(self) -> None:
        self.cursor: dict[tuple[str, str], datetime] = {}

    def take(self, coach: str, month: str) -> datetime:
        first, end = month_bounds(month, ZONE)
        start = self.cursor.get((coach, month), first)
        if start + HOUR > end:
            raise RuntimeError(f"coach {coach} has no hour left in {month}")
        self.cursor[(coach, month)] = start + HOUR
        return start


def coach_of(index: int) -> str:
    return f"coach{index % COACHES:02d}"


def client_id(index: int) -> str:
    return f"cl{index:05d}"


@contextmanager
def database(url: str | None, tmp: Path) -> Iterator[str]:
    """SQLite in ``tmp``, or a fresh PostgreSQL schema dropped afterwards."""
    if not url:
        yield f"sqlite:///{tmp / 'bench.db'}"
        return
    with scratch_schema(url, "bench") as scoped:
        yield scoped


def open_book(url: str, tmp: Path) -> Book:
    hours = dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), "00:00-24:00")
    coaches = [
        {"id": coach_of(c), "name": f"Coach {c}", "email": f"coach{c}@example.org"}
        | {"timezone": TZ, "working_hours": hours}
        for c in range(COACHES)
    ]
    data: dict[str, Any] = {
        "state_dir": str(tmp),
        "database": {"url": url},
        "programs": {"bench": {"monthly_limit": LIMIT}},
        "coaches": coaches,
    }
    wiring.install()  # the mail consumer, as the command line installs it
    return Book.open(build(data, tmp))


def count(book: Book) -> int:
    with book.transaction() as db:
        return int(db.scalar(select(func.count()).select_from(SessionRow)) or 0)


def analyze(book: Book) -> None:
    """Refresh planner statistics, as autovacuum (PostgreSQL) or a cron job (SQLite) would."""
    with book.engine.begin() as conn:
        for table in ("sessions", "participants"):
            conn.exec_driver_sql(f"ANALYZE {table}")


def medians(reps: int, ms: list[float]) -> dict[str, float]:
    return {"repetitions": reps, "small": ms[0], "big": ms[1], "ratio": ms[1] / ms[0]}


def time_check(book: Book, clients: list[Client], month: str, reps: int) -> float:
    """Median of one checks.monthly_limits call inside an open transaction."""
    start = month_bounds(month, ZONE)[0] + timedelta(hours=12)
    samples = []
    for rep in range(reps + 5):  # the first five warm up
        client = clients[rep % len(clients)]
        coach = book.coach(coach_of(int(client.id[2:])))
        with book.transaction() as db:
            db.connection()  # BEGIN now, not inside the timed call
            t0 = time.perf_counter()
            checks.monthly_limits(
                book, db, coach, [client], checks.placements(coach, [(start, start + HOUR)])
            )
            samples.append(time.perf_counter() - t0)
    return statistics.median(samples[5:]) * 1000


def time_plans(book: Book, slots: Slots, first: int, reps: int, m0: str) -> float:
    """Median of one full planning.plan (one transaction), each for a client with room."""
    samples = []
    for k in range(reps):
        index = first + k
        coach = coach_of(index)
        start = slots.take(coach, add_months(m0, k % 10))
        req = PlanRequest(coach_id=coach, clients=[client_id(index)], start=start)
        t0 = time.perf_counter()
        planning.plan(book, req)
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples) * 1000


def add_clients(book: Book, indexes: range) -> None:
    for i in indexes:
        parties.add_client(book, f"Client {i}", f"c{i}@example.org", "bench", client_id(i))


def bulk_write(book: Book, rows: list[tuple[int, datetime, Status]]) -> None:
    """Store (client index, start, status) rows with repo.write_session, BATCH per transaction."""
    for lo in range(0, len(rows), BATCH):
        with book.transaction() as db:
            now = book.clock()
            for index, start, status in rows[lo : lo + BATCH]:
                session = Session(
                    uid=planning.new_uid(),
                    coach_id=coach_of(index),
                    start=start,
                    end=start + HOUR,
                    tzid=TZ,
                    participants=[Participant(client_id(index), Role.CLIENT)],
                    status=status,
                )
                repo.write_session(db, session, now)


def grow(book: Book, slots: Slots, clients: int, target: int, m0: str) -> None:
    """New clients 2n (20 future sessions each), then past history of all 3n clients."""
    add_clients(book, range(clients, 3 * clients))
    rows = [
        (index, slots.take(coach_of(index), add_months(m0, s // 2)), Status.SCHEDULED)
        for s in range(PER_CLIENT)
        for index in range(clients, 3 * clients)
    ]
    history = target - count(book) - len(rows)
    for q in range(history):
        index, rnd = q % (3 * clients), q // (3 * clients)
        month = add_months(m0, -2 - rnd % 24)
        rows.append((index, slots.take(coach_of(index), month), Status.COMPLETED))
    bulk_write(book, rows)


def run(
    args: argparse.Namespace, tmp: Path, url: str, say: Callable[[str], None]
) -> dict[str, Any]:
    scale = 10 if args.quick else 1
    clients, check_reps, plan_reps = 500 // scale, 200 // scale, 50 // scale
    small, big = clients * PER_CLIENT, clients * PER_CLIENT * 10
    book = open_book(url, tmp)
    try:
        backend = book.engine.dialect.name
        m0 = add_months(month_of(book.clock(), ZONE), 1)
        slots = Slots()
        add_clients(book, range(clients))
        t0 = time.perf_counter()
        for s in range(PER_CLIENT):
            month = add_months(m0, s // 2)
            for index in range(clients):
                coach = coach_of(index)
                req = PlanRequest(
                    coach_id=coach, clients=[client_id(index)], start=slots.take(coach, month)
                )
                planning.plan(book, req)
        elapsed = time.perf_counter() - t0
        rate = f"{small / elapsed:.0f} sessions/s ({backend})"
        say(f"plan throughput: {small} sessions in {elapsed:.1f} s = {rate}")
        with book.transaction() as db:
            probe = [repo.client(db, client_id(i)) for i in range(2 * plan_reps, clients)]
        sizes = [count(book)]
        if args.analyze:
            analyze(book)
        check = [time_check(book, probe, m0, check_reps)]
        plan = [time_plans(book, slots, 0, plan_reps, m0)]
        t0 = time.perf_counter()
        grow(book, slots, clients, big, m0)
        grow_s = time.perf_counter() - t0
        sizes.append(count(book))
        if args.analyze:
            analyze(book)
        say(f"grew book: {sizes[0]} -> {sizes[1]} sessions in {grow_s:.1f} s (bulk write_session)")
        check.append(time_check(book, probe, m0, check_reps))
        plan.append(time_plans(book, slots, plan_reps, plan_reps, m0))
        a, b = f"{small // 1000}k", f"{big // 1000}k"
        for name, reps, ms, digits in (
            ("limit check", check_reps, check, 2),
            ("plan one session", plan_reps, plan, 1),
        ):
            say(
                f"{name}, median of {reps}: {a} book {ms[0]:.{digits}f} ms,"
                f" {b} book {ms[1]:.{digits}f} ms, ratio {ms[1] / ms[0]:.2f}"
            )
        speed = {"sessions": small, "seconds": elapsed, "per_second": small / elapsed}
        return {
            "backend": backend,
            "quick": args.quick,
            "analyze": args.analyze,
            "plan_throughput": speed,
            "book_sessions": {"small": sizes[0], "big": sizes[1], "grow_seconds": grow_s},
            "limit_check_ms": medians(check_reps, check),
            "plan_one_ms": medians(plan_reps, plan),
        }
    finally:
        book.engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="scale everything down 10x")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--analyze", action="store_true", help="ANALYZE before measuring")
    parser.add_argument("--database-url", help="PostgreSQL URL (default: SQLite in a temp dir)")
    args = parser.parse_args(argv)
    say: Callable[[str], None] = (lambda _line: None) if args.json else print
    with (
        tempfile.TemporaryDirectory(prefix="calbridge-bench-") as tmp,
        database(args.database_url, Path(tmp)) as url,
    ):
        result = run(args, Path(tmp), url, say)
    if args.json:
        print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
