"""Benchmark of calendar sync against a real Radicale: push, idle pass, small-change pass.

Run: .venv/bin/python bench/sync_bench.py [--quick] [--json] [--reps N] [--passes N] [--rounds N]
                                          [--idle-events N] [--idle-only]
                                          [--server radicale|memdav]
     .venv/bin/python bench/sync_bench.py --graph [--latency-ms MS] ...  (bench/graph_bench.py)
     .venv/bin/python bench/sync_bench.py --compare [--quick] ...  (bench/compare_bench.py:
       calbridge, vdirsyncer 0.21 and the bare loop on Radicale and Xandikos, issue 14's table)

Starts its own Radicale (a child process on 127.0.0.1, data in a temp dir) and a SQLite book,
then measures in one run:

(a) push: 1,000 sessions planned through planning.plan (spread over months and clients, so
    limits and availability pass), then ONE CalendarSync.run() creating them all on an empty
    calendar (sync.parallel_writes creates in flight, as configured; and once more with 1,
    one create at a time, shown beside it), against the floor: the same 1,000 bodies
    (rendered by desired.wanted_sessions) PUT with If-None-Match: * in a bare loop on one
    http.client connection, to another empty calendar. Rounds run in alternating order; the
    median ratio is reported, and the ratio the two sides' CPU alone gives (Radicale's speed
    drifts with the machine's load). Radicale's built-in server answers HTTP/1.0 and closes
    after every answer, so no side keeps a connection alive: all reconnect per request.
(b) idle: a 10,000-event calendar that calbridge's status knows completely, settled by one more
    sync; then passes with no change: HTTP requests (store.requests delta) and CPU of this
    process (time.process_time delta; Radicale's CPU is its own process's). Median of passes.
(c) the same calendar with 10 events moved by an hour by raw PUTs, as a calendar app would
    (DTSTART/DTEND + 1 h, SEQUENCE + 1, If-Match): requests, CPU and wall time of the pass
    that imports them. Median of rounds, each moving 10 other events.

The 10,000 events are not created one PUT at a time: Radicale checks every PUT of a new
resource for a UID conflict by reading every member of the collection (storage has_uid), so n
creates cost O(n^2); the bench extrapolates how long 10,000 would take from the per-PUT times of
its bare loop in (a). Nor with one PUT of the whole collection: fast, but Radicale rebuilds each
member's VCALENDAR without CALSCALE:GREGORIAN, which calbridge's fingerprint counts, so its
first sync would re-PUT all of them. Instead the book gets the sessions by bulk writes
(repo.write_session); their bodies, rendered as calbridge renders them
(desired.wanted_sessions), are written as UID.ics straight into the calendar's folder in
Radicale's storage, chunk by chunk, while Radicale reads each chunk in (full sync-collection
REPORTs from a thread); then calbridge's own first sync adopts all of them (status rows, no
writes) and one more sync settles.

``--server memdav`` runs all of it against bench/memdav.py (a process answering from memory)
instead: its bodies are PUT, not written into a folder. calbridge's side of an idle pass does
not depend on the server, and Radicale takes longer than a bench may (10 minutes here) to
read 10,000 members in and answer calbridge's first sync of them on a loaded machine.

Radicale configuration, compared with tests/servers/caldav_servers.py: logging level warning
(not info), [storage] use_mtime_and_size_for_item_cache = True (stat instead of SHA-256 when
the item cache is checked), no storage hook (the default), and the internal option
_filesystem_fsync = False (no fsync per write; internal options can only be set from code, so
Radicale is started through a three-line launcher instead of ``python -m radicale``). A faster
server makes calbridge's own overhead a larger share of (a), so this only makes the target
harder.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from icalendar import Calendar
from sqlalchemy import delete

from calbridge.book import Book, parties, planning
from calbridge.book.requests import PlanRequest
from calbridge.calendars import davxml as dx
from calbridge.calendars.base import resource_name
from calbridge.calendars.caldav import CalDAVStore
from calbridge.config.load import build
from calbridge.config.schema import Coach
from calbridge.core.model import Participant, Role, Session, Status
from calbridge.service import wiring
from calbridge.store import repo
from calbridge.store.tables import CalendarItemRow, CalendarStateRow
from calbridge.sync import desired, status
from calbridge.sync.engine import CalendarSync, Report

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from servers.caldav_servers import (
    LOOPBACK,
    CalDAVServer,
    _server_process,
    mkcalendar,
)
from service.tcp_proxy import TcpProxy

TZ = "Europe/London"
ZONE = ZoneInfo(TZ)
HOUR = timedelta(hours=1)
PROGRAM_LIMIT = 4
CLIENTS = 100  # per coach; with the spacings below no client exceeds the limit in any month
PUSH_SPACING = 2 * HOUR  # push coach: a one-hour session every 2 h, client k % 100
IDLE_SPACING = 3 * HOUR  # idle coach: every 3 h, so a move by +1 h lands in free time
BULK_BATCH = 1000  # sessions per transaction when bulk-writing the idle coach's book
USER, PASSWORD = "bench", "bench-password"
ICAL = "text/calendar; charset=utf-8"
SETUP_TIMEOUT = 900.0  # Radicale reads 10,000 new members in at ~10 ms apiece
IDLE_CPU_MS = 5.0  # issue 14: an idle pass over 10,000 events

# Starts Radicale with the privileged (internal) option _filesystem_fsync turned off.
LAUNCHER = """\
import sys
from radicale import config, log, server
log.setup()
conf = config.load([(sys.argv[1], False)])
conf.update({"storage": {"_filesystem_fsync": "False"}}, "sync_bench", privileged=True)
log.set_level(conf.get("logging", "level"), False)
server.serve(conf)
"""

RADICALE_CONFIG = """\
[server]
hosts = {host}:{port}
max_connections = 20

[auth]
type = htpasswd
htpasswd_filename = {users}
htpasswd_encryption = plain
delay = 0

[rights]
type = owner_only

[storage]
filesystem_folder = {storage}
use_mtime_and_size_for_item_cache = True
hook =

[hook]
type = none

[web]
type = none

[logging]
level = warning
"""


# --- the server and a bare HTTP client ------------------------------------------------------


@contextmanager
def radicale(tmp: Path) -> Iterator[CalDAVServer]:
    """Radicale on a free loopback port, stopped (and its data removed by the caller) at exit."""
    root = tmp / "radicale"
    root.mkdir()
    users = root / "users"
    users.write_text(f"{USER}:{PASSWORD}\n", encoding="utf-8")
    config = root / "config"

    def argv(port: int) -> list[str]:
        text = RADICALE_CONFIG.format(
            host=LOOPBACK, port=port, users=users, storage=root / "collections"
        )
        config.write_text(text, encoding="utf-8")
        return [sys.executable, "-c", LAUNCHER, str(config)]

    with _server_process("radicale", argv, root, 30.0) as (port, proc, log_path):
        base = f"http://{LOOPBACK}:{port}/"
        home = f"{base}{USER}/"
        yield CalDAVServer(
            name="radicale",
            base_url=base,
            principal_url=home,
            calendar_home_url=home,
            calendar_url=f"{home}calendar/",
            username=USER,
            password=PASSWORD,
            data_dir=root / "collections",
            log_path=log_path,
            pid=proc.pid,
        )


@contextmanager
def memdav(tmp: Path) -> Iterator[CalDAVServer]:
    """bench/memdav.py in a process of its own: a server that answers from memory, so that
    calbridge's cost is measured at sizes Radicale takes too long to fill (issue 14)."""
    root = tmp / "memdav"
    root.mkdir()
    script = str(Path(__file__).resolve().parent / "memdav.py")
    with _server_process(
        "memdav", lambda port: [sys.executable, script, "--port", str(port)], root, 30.0
    ) as (port, proc, log_path):
        base = f"http://{LOOPBACK}:{port}/"
        home = f"{base}{USER}/"
        yield CalDAVServer(
            name="memdav",
            base_url=base,
            principal_url=home,
            calendar_home_url=home,
            calendar_url=f"{home}calendar/",
            username=USER,
            password=PASSWORD,
            data_dir=root,
            log_path=log_path,
            pid=proc.pid,
        )


def new_calendar(server: CalDAVServer, name: str) -> str:
    url = server.new_calendar_url(name)
    reply = mkcalendar(server, url)
    if reply.status != 201:
        raise RuntimeError(f"MKCALENDAR {url}: {reply.status} {reply.body[:300]!r}")
    return url


class Raw:
    """One keep-alive http.client connection with Basic auth: the floor, and the calendar app."""

    def __init__(self, server: CalDAVServer, timeout: float = 60.0, port: int = 0) -> None:
        where = urlsplit(server.base_url)
        assert where.hostname and where.port
        self.conn = http.client.HTTPConnection(where.hostname, port or where.port, timeout=timeout)
        token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode("ascii")
        self.auth = f"Basic {token}"

    def close(self) -> None:
        self.conn.close()

    def send(
        self, method: str, path: str, body: bytes | None = None, **headers: str
    ) -> tuple[int, str | None, bytes]:
        """(status, ETag header, body) of one request."""
        self.conn.request(method, path, body=body, headers={"Authorization": self.auth, **headers})
        with self.conn.getresponse() as resp:
            return resp.status, resp.getheader("ETag"), resp.read()


def put_all(raw: Raw, bodies: list[tuple[str, bytes]]) -> list[float]:
    """The floor: a bare sequential loop of PUT If-None-Match: * (path, body); seconds each."""
    took = []
    for path, data in bodies:
        t0 = time.perf_counter()
        code, _, answer = raw.send(
            "PUT", path, data, **{"If-None-Match": "*", "Content-Type": ICAL}
        )
        took.append(time.perf_counter() - t0)
        if code != 201:
            raise RuntimeError(f"PUT {path}: {code} {answer[:300]!r}")
    return took


# --- the book ---------------------------------------------------------------------------------


def open_book(tmp: Path) -> Book:
    hours = dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), "00:00-24:00")
    coaches = [
        {"id": cid, "name": f"Coach {cid}", "email": f"{cid}@example.org", "timezone": TZ}
        | {"working_hours": hours}
        for cid in ("push", "idle")
    ]
    data: dict[str, Any] = {
        "state_dir": str(tmp),
        "database": {"url": f"sqlite:///{tmp / 'bench.db'}"},
        "programs": {"bench": {"monthly_limit": PROGRAM_LIMIT}},
        "coaches": coaches,
    }
    wiring.install()  # the mail consumer, as the command line installs it
    return Book.open(build(data, tmp))


def client_of(coach: str, index: int) -> str:
    return f"{coach}{index % CLIENTS:03d}"


def add_clients(book: Book, coach: str) -> None:
    for i in range(CLIENTS):
        cid = client_of(coach, i)
        parties.add_client(book, f"Client {cid}", f"{cid}@example.org", "bench", cid)


def first_start(book: Book) -> datetime:
    """Midnight UTC on the first day of next month: every session is in the future."""
    now = book.clock().astimezone(UTC)
    month = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return (month + timedelta(days=32)).replace(day=1)


def plan_push(book: Book, count: int, base: datetime) -> list[str]:
    """``count`` sessions through the rules (planning.plan), one client each; their UIDs."""
    uids = []
    for k in range(count):
        start = (base + k * PUSH_SPACING).astimezone(ZONE)
        req = PlanRequest(coach_id="push", clients=[client_of("push", k)], start=start)
        uids.append(planning.plan(book, req)[0].uid)
    return uids


def bulk_idle(book: Book, count: int, base: datetime) -> list[str]:
    """``count`` scheduled sessions of the idle coach, written directly (repo.write_session).

    Session k starts at ``base + k * IDLE_SPACING``; their UIDs in that order.
    """
    uids = []
    for lo in range(0, count, BULK_BATCH):
        with book.transaction() as db:
            now = book.clock()
            for k in range(lo, min(count, lo + BULK_BATCH)):
                start = (base + k * IDLE_SPACING).astimezone(ZONE)
                session = Session(
                    uid=planning.new_uid(),
                    coach_id="idle",
                    start=start,
                    end=start + HOUR,
                    tzid=TZ,
                    participants=[Participant(client_of("idle", k), Role.CLIENT)],
                    status=Status.SCHEDULED,
                )
                repo.write_session(db, session, now)
                uids.append(session.uid)
    return uids


def rendered(book: Book, coach: Coach, uids: list[str]) -> dict[str, bytes]:
    """What calbridge would PUT for each UID (desired.wanted_sessions)."""
    with book.transaction() as db:
        wanted = desired.wanted_sessions(db, book.settings, coach, uids, book.clock())
    out = {}
    for uid in uids:
        data = wanted[uid].data
        assert data is not None, uid
        out[uid] = data
    return out


def write_members(server: CalDAVServer, url: str, bodies: dict[str, bytes]) -> None:
    """Store each body as the member UID.ics, straight into Radicale's storage folder.

    The exact bytes calbridge would PUT, without Radicale's per-PUT UID scan. (A whole
    collection PUT would be as fast, but Radicale rebuilds each member's VCALENDAR and drops
    CALSCALE:GREGORIAN, which calbridge's fingerprint counts: its first sync would then
    re-PUT every event instead of adopting it.)
    """
    folder = server.data_dir / "collection-root" / urlsplit(url).path.strip("/")
    if not (folder / ".Radicale.props").is_file():
        raise RuntimeError(f"{folder} is not the storage of {url}")
    for uid, data in bodies.items():
        (folder / resource_name(uid)).write_bytes(data)


def reset_status(book: Book, calendar_id: str) -> None:
    """Forget every sync of ``calendar_id``: the next one is a first sync again."""
    with book.transaction() as db:
        db.execute(delete(CalendarItemRow).where(CalendarItemRow.calendar_id == calendar_id))
        db.execute(delete(CalendarStateRow).where(CalendarStateRow.calendar_id == calendar_id))


def member_path(collection_url: str, uid: str) -> str:
    return urlsplit(dx.member_url(collection_url, resource_name(uid))).path


# --- iCalendar text -----------------------------------------------------------------------------


def moved_by_an_hour(data: bytes) -> bytes:
    """The coach drags the event one hour later in their app (which bumps SEQUENCE)."""
    cal = Calendar.from_ical(data)
    for event in cal.walk("VEVENT"):
        for key in ("DTSTART", "DTEND"):
            value = event.decoded(key) + HOUR
            del event[key]
            event.add(key, value)
        event["SEQUENCE"] = int(event.get("SEQUENCE", 0)) + 1
    return bytes(cal.to_ical())


def app_edit(raw: Raw, href: str) -> None:
    """GET the event, move it, PUT it back If-Match: what a calendar app does."""
    code, etag, data = raw.send("GET", href)
    if code != 200 or not etag:
        raise RuntimeError(f"GET {href}: {code} {data[:300]!r}")
    headers = {"If-Match": etag, "Content-Type": ICAL}
    code, _, answer = raw.send("PUT", href, moved_by_an_hour(data), **headers)
    if code not in (200, 201, 204):
        raise RuntimeError(f"edit of {href}: {code} {answer[:300]!r}")


@dataclass(frozen=True)
class Sizes:
    push: int
    idle: int
    changed: int
    reps: int
    passes: int
    rounds: int


# --- measuring --------------------------------------------------------------------------------


@dataclass
class Pass:
    requests: int
    cpu_ms: float
    wall_s: float
    report: Report


def timed_sync(book: Book, coach: Coach, store: CalDAVStore) -> Pass:
    sent = store.requests
    cpu, wall = time.process_time(), time.perf_counter()
    report = CalendarSync(book, coach, store).run()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if report.error or report.held_back or report.skipped or report.refused:
        raise RuntimeError(f"sync of {coach.id} went wrong: {report}")
    return Pass(store.requests - sent, cpu * 1000, wall, report)


def kinds(report: Report) -> dict[str, int]:
    counts: dict[str, int] = {}
    for action in report.actions:
        counts[action["action"]] = counts.get(action["action"], 0) + 1
    return counts


def expect(what: str, report: Report, wanted: dict[str, int]) -> None:
    if kinds(report) != wanted:
        raise RuntimeError(f"{what}: expected actions {wanted}, got {kinds(report)}")


def progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def n_requests(count: float) -> str:
    return f"{count:.0f} request" + ("" if count == 1 else "s")


def verdict(met: bool) -> str:
    return "met" if met else "missed"


def store_for(server: CalDAVServer, url: str, book: Book, timeout: float = 30.0) -> CalDAVStore:
    batch = book.settings.sync.multiget_batch
    return CalDAVStore(url, server.auth, batch_size=batch, timeout=timeout)


def calbridge_push(book: Book, server: CalDAVServer, url: str, parallel: int, count: int) -> Pass:
    """One sync of the push coach, from empty status, to the calendar at ``url`` with
    ``parallel`` creates in flight; it must create ``count`` events."""
    configured = book.settings.sync.parallel_writes
    book.settings.sync.parallel_writes = parallel
    reset_status(book, "push")
    try:
        with store_for(server, url, book) as store:
            done = timed_sync(book, book.coach("push"), store)
    finally:
        book.settings.sync.parallel_writes = configured
    expect("push", done.report, {"create": count})
    return done


def push(
    book: Book, server: CalDAVServer, sizes: Sizes, say: Callable[[str], None]
) -> dict[str, Any]:
    coach = book.coach("push")
    add_clients(book, "push")
    t0 = time.perf_counter()
    uids = plan_push(book, sizes.push, first_start(book))
    plan_s = time.perf_counter() - t0
    say(f"setup: planned {sizes.push} sessions through planning.plan in {plan_s:.1f} s")
    t0 = time.perf_counter()
    bodies = rendered(book, coach, uids)
    render_s = time.perf_counter() - t0
    calbridge_s: list[float] = []
    sequential_s: list[float] = []  # calbridge with sync.parallel_writes = 1
    floor_s: list[float] = []
    calbridge_cpu: list[float] = []
    floor_cpu: list[float] = []
    per_put: list[list[float]] = []
    requests = 0
    parallel = book.settings.sync.parallel_writes
    order = ("calbridge", "floor", "sequential")
    for rep in range(sizes.reps):
        for side in order if rep % 2 == 0 else order[::-1]:
            url = new_calendar(server, f"push-{rep}-{side}")
            if side == "sequential":
                done = calbridge_push(book, server, url, 1, sizes.push)
                sequential_s.append(done.wall_s)
            elif side == "calbridge":
                done = calbridge_push(book, server, url, parallel, sizes.push)
                calbridge_s.append(done.wall_s)
                calbridge_cpu.append(done.cpu_ms / 1000)
                requests = done.requests
            else:
                paths = [(member_path(url, uid), data) for uid, data in bodies.items()]
                raw = Raw(server)
                try:
                    cpu, t0 = time.process_time(), time.perf_counter()
                    per_put.append(put_all(raw, paths))
                    floor_s.append(time.perf_counter() - t0)
                    floor_cpu.append(time.process_time() - cpu)
                finally:
                    raw.close()
            sides = {"calbridge": calbridge_s, "floor": floor_s, "sequential": sequential_s}
            took = sides[side][-1]
            progress(f"push pair {rep + 1}/{sizes.reps}, {side}: {took:.1f} s")
    ratios = [c / f for c, f in zip(calbridge_s, floor_s, strict=True)]
    sequential = [c / f for c, f in zip(sequential_s, floor_s, strict=True)]
    # Radicale's speed drifts with the machine's load; this estimate only counts client CPU.
    extra = median(calbridge_cpu) - median(floor_cpu)
    # A PUT into a calendar of k members takes about base + slope * k (Radicale's UID scan).
    slope, base = statistics.linear_regression(
        [float(k) for run in per_put for k in range(len(run))], [t for run in per_put for t in run]
    )
    return {
        "uids": uids,
        "events": sizes.push,
        "plan_seconds": plan_s,
        "put_seconds_at_k_members": {"base": base, "per_member": slope},
        "one_by_one_seconds_for_idle_size": base * sizes.idle + slope * sizes.idle**2 / 2,
        "pairs": sizes.reps,
        "calbridge_seconds": calbridge_s,
        "floor_seconds": floor_s,
        "ratios": ratios,
        "calbridge_median_s": median(calbridge_s),
        "floor_median_s": median(floor_s),
        "median_ratio": median(ratios),
        "parallel_writes": parallel,
        "sequential_seconds": sequential_s,
        "sequential_ratios": sequential,
        "sequential_median_ratio": median(sequential),
        "calbridge_requests": requests,
        "calbridge_cpu_seconds": calbridge_cpu,
        "floor_cpu_seconds": floor_cpu,
        "render_seconds": render_s,
        "cpu_ratio": (median(floor_s) + extra) / median(floor_s),
        "target_ratio": 1.15,
    }


def fill_idle(
    book: Book, server: CalDAVServer, sizes: Sizes, say: Callable[[str], None]
) -> tuple[str, list[str], dict[str, float]]:
    """The idle coach's book and calendar with ``sizes.idle`` events, known to the status.

    Bodies are rendered and written chunk by chunk while Radicale, in its own process, reads
    each new chunk in (it parses every member once to cache it, ~10 ms apiece with
    calbridge's VTIMEZONE): a full sync-collection REPORT from a background thread.
    Returns the calendar's URL, the sessions' UIDs in time order and setup timings.
    """
    coach = book.coach("idle")
    add_clients(book, "idle")
    setup: dict[str, float] = {}
    t0 = time.perf_counter()
    uids = bulk_idle(book, sizes.idle, first_start(book))
    progress(f"idle: rendering {sizes.idle} events into Radicale's storage, Radicale reading in")
    url = new_calendar(server, "idle")
    warm = Raw(server, timeout=SETUP_TIMEOUT)
    failed: list[BaseException] = []

    def read_in() -> None:
        try:
            full_listing(warm, url)
        except BaseException as exc:  # handed to the main thread
            failed.append(exc)

    try:
        # A daemon thread: on error or SIGTERM nothing waits for Radicale to finish reading.
        worker: threading.Thread | None = None
        for lo in range(0, len(uids), 500):
            bodies = rendered(book, coach, uids[lo : lo + 500])
            if server.name == "memdav":  # no storage folder: PUT them
                put_all(warm, [(member_path(url, uid), data) for uid, data in bodies.items()])
                continue
            write_members(server, url, bodies)
            if worker is None or not worker.is_alive():
                if failed:
                    raise failed[0]
                worker = threading.Thread(target=read_in, daemon=True)
                worker.start()
        if worker is not None:
            worker.join()
        if failed:
            raise failed[0]
        full_listing(warm, url)  # everything written is read in now
    finally:
        warm.close()
    setup["fill_seconds"] = time.perf_counter() - t0
    progress(f"idle: calbridge's first sync of {sizes.idle} events")
    with store_for(server, url, book, SETUP_TIMEOUT) as store:
        first = timed_sync(book, coach, store)
        expect("first sync of the filled calendar", first.report, {"adopt": sizes.idle})
        setup["first_sync_seconds"] = first.wall_s
        settle = timed_sync(book, coach, store)
        expect("settling sync", settle.report, {})
    with book.transaction() as db:
        known = len(status.known_rows(db, coach.id, everything=True))
    if known != sizes.idle:
        raise RuntimeError(f"the status knows {known} events, not {sizes.idle}")
    say(
        f"setup: {sizes.idle} sessions bulk-written, rendered and read in by Radicale in"
        f" {setup['fill_seconds']:.1f} s; calbridge's first sync (adopts all, renders all)"
        f" {setup['first_sync_seconds']:.1f} s"
    )
    return url, uids, setup


def full_listing(raw: Raw, url: str) -> None:
    """A full sync-collection REPORT: Radicale caches every member it has not seen yet."""
    headers = {"Depth": "0", "Content-Type": "application/xml; charset=utf-8"}
    code, _, answer = raw.send(
        "REPORT", urlsplit(url).path, dx.sync_collection_body(None), **headers
    )
    if code != 207:
        raise RuntimeError(f"REPORT {url}: {code} {answer[:300]!r}")


def idle(book: Book, server: CalDAVServer, url: str, sizes: Sizes) -> dict[str, Any]:
    coach = book.coach("idle")
    with store_for(server, url, book) as store:
        passes = [timed_sync(book, coach, store) for _ in range(sizes.passes)]
    for done in passes:
        expect("idle pass", done.report, {})
    fresh = []
    for _ in range(sizes.passes):  # as sync_coach does it: a new store (connection) per pass
        cpu, wall = time.process_time(), time.perf_counter()
        with store_for(server, url, book) as store:
            report = CalendarSync(book, coach, store).run()
            sent = store.requests
        fresh.append((sent, (time.process_time() - cpu) * 1000, time.perf_counter() - wall))
        expect("idle pass (new store)", report, {})
    return {
        "events": sizes.idle,
        "passes": sizes.passes,
        "requests": median([p.requests for p in passes]),
        "cpu_ms": median([p.cpu_ms for p in passes]),
        "cpu_ms_samples": [p.cpu_ms for p in passes],
        "wall_s": median([p.wall_s for p in passes]),
        "new_store_requests": median([f[0] for f in fresh]),
        "new_store_cpu_ms": median([f[1] for f in fresh]),
        "new_store_wall_s": median([f[2] for f in fresh]),
        "target_requests": 1,
        "target_cpu_ms": IDLE_CPU_MS,
    }


def changed(
    book: Book, server: CalDAVServer, url: str, uids: list[str], sizes: Sizes
) -> dict[str, Any]:
    coach = book.coach("idle")
    # Spread over the calendar; never the day's last slot (21:00 UTC): moved, it stays that day.
    per_day = timedelta(days=1) // IDLE_SPACING
    movable = [uid for k, uid in enumerate(uids) if k % per_day != per_day - 1]
    wanted = sizes.changed * sizes.rounds
    picked = movable[:: max(1, len(movable) // wanted)][:wanted]
    with book.transaction() as db:
        href = {r.uid: r.href for r in status.known_rows(db, coach.id, picked)}
    results: list[Pass] = []
    raw = Raw(server)
    try:
        with store_for(server, url, book) as store:
            for rnd in range(sizes.rounds):
                for uid in picked[rnd * sizes.changed : (rnd + 1) * sizes.changed]:
                    app_edit(raw, href[uid])
                done = timed_sync(book, coach, store)
                results.append(done)
                expect("import pass", done.report, {"import": sizes.changed})
                settle = timed_sync(book, coach, store)
                expect("settling pass", settle.report, {})
    finally:
        raw.close()
    return {
        "events": sizes.idle,
        "changed": sizes.changed,
        "rounds": sizes.rounds,
        "requests": median([p.requests for p in results]),
        "cpu_ms": median([p.cpu_ms for p in results]),
        "wall_s": median([p.wall_s for p in results]),
        "cpu_ms_samples": [p.cpu_ms for p in results],
        "wall_s_samples": [p.wall_s for p in results],
    }


def distant(book: Book, server: CalDAVServer, uids: list[str], latency_ms: float) -> dict[str, Any]:
    """(d) The push of (a) to a server ``latency_ms`` away (a loopback forwarder delays each
    chunk by half of it, each way): the floor, calbridge as configured, and one at a time."""
    coach = book.coach("push")
    bodies = rendered(book, coach, uids)
    where = urlsplit(server.base_url)
    assert where.hostname and where.port
    proxy = TcpProxy(where.hostname, where.port, delay=latency_ms / 2000)
    seconds: dict[str, float] = {}
    parallel = book.settings.sync.parallel_writes
    for side in ("floor", "calbridge", "sequential"):
        url = new_calendar(server, f"distant-{side}")
        far = url.replace(f":{where.port}/", f":{proxy.port}/", 1)
        t0 = time.perf_counter()
        if side == "floor":
            raw = Raw(server, port=proxy.port)
            try:
                put_all(raw, [(member_path(url, uid), data) for uid, data in bodies.items()])
            finally:
                raw.close()
        else:
            calbridge_push(book, server, far, parallel if side == "calbridge" else 1, len(uids))
        seconds[side] = time.perf_counter() - t0
        progress(f"push over {latency_ms:.0f} ms, {side}: {seconds[side]:.1f} s")
    proxy.cut()
    return {
        "events": len(uids),
        "latency_ms": latency_ms,
        "seconds": seconds,
        "ratio": seconds["calbridge"] / seconds["floor"],
        "sequential_ratio": seconds["sequential"] / seconds["floor"],
    }


def run(args: argparse.Namespace, tmp: Path, say: Callable[[str], None]) -> dict[str, Any]:
    scale = 10 if args.quick else 1
    idle_events = args.idle_events or 10000 // scale
    sizes = Sizes(1000 // scale, idle_events, 10 // scale, args.reps, args.passes, args.rounds)
    started = time.perf_counter()
    with memdav(tmp) if args.server == "memdav" else radicale(tmp) as server:
        book = open_book(tmp)
        try:
            a = {} if args.idle_only else push(book, server, sizes, say)
            d = {} if args.idle_only else distant(book, server, a.pop("uids"), args.latency_ms)
            url, uids, setup = fill_idle(book, server, sizes, say)
            b = idle(book, server, url, sizes)
            c = changed(book, server, url, uids, sizes)
        finally:
            book.engine.dispose()
    if not args.idle_only:
        say_push(a, d, sizes, setup, say)
    say_idle(b, c, say)
    total = time.perf_counter() - started
    say(f"total {total:.0f} s")
    return {
        "quick": args.quick,
        "sizes": asdict(sizes),
        "push": a,
        "distant_push": d,
        "idle_setup": setup,
        "idle": b,
        "changed": c,
        "total_seconds": total,
    }


def say_push(
    a: dict[str, Any],
    d: dict[str, Any],
    sizes: Sizes,
    setup: dict[str, float],
    say: Callable[[str], None],
) -> None:
    say(
        f"push {a['events']} events: calbridge {a['calbridge_median_s']:.1f} s,"
        f" bare PUT loop {a['floor_median_s']:.1f} s, ratio {a['median_ratio']:.2f}"
        f" (target <= 1.15: {verdict(a['median_ratio'] <= 1.15)};"
        f" median of {a['pairs']} alternating pairs,"
        f" ratios {', '.join(f'{r:.2f}' for r in a['ratios'])};"
        f" sync.parallel_writes = {a['parallel_writes']})"
    )
    say(
        f"  the same push one create at a time (parallel_writes = 1): ratio"
        f" {a['sequential_median_ratio']:.2f}"
        f" ({', '.join(f'{r:.2f}' for r in a['sequential_ratios'])})"
    )
    say(
        f"  calbridge's own CPU {median(a['calbridge_cpu_seconds']):.1f} s per push (rendering"
        f" + fingerprinting the events, desired.wanted_sessions: {a['render_seconds']:.1f} s),"
        f" the bare loop's {median(a['floor_cpu_seconds']):.1f} s; {a['calbridge_requests']}"
        f" requests; ratio if Radicale took the same time for both: {a['cpu_ratio']:.2f}"
    )
    fit = a["put_seconds_at_k_members"]
    say(
        f"  a PUT into a calendar of k members took {fit['base'] * 1e3:.0f} ms"
        f" + {fit['per_member'] * 1e6:.0f} us * k: creating {sizes.idle} events one by one"
        f" would take ~{a['one_by_one_seconds_for_idle_size'] / 60:.0f} min, so (b) fills the"
        f" calendar otherwise ({setup['fill_seconds']:.0f} s) and calbridge's first sync adopts"
        f" them ({setup['first_sync_seconds']:.0f} s)"
    )
    say(
        f"push {d['events']} events to a server {d['latency_ms']:.0f} ms away: calbridge"
        f" {d['seconds']['calbridge']:.1f} s, one create at a time"
        f" {d['seconds']['sequential']:.1f} s, bare PUT loop {d['seconds']['floor']:.1f} s;"
        f" ratios {d['ratio']:.2f} and {d['sequential_ratio']:.2f} (one round)"
    )


def say_idle(b: dict[str, Any], c: dict[str, Any], say: Callable[[str], None]) -> None:
    say(
        f"idle pass on {b['events']} events: {n_requests(b['requests'])},"
        f" {b['cpu_ms']:.1f} ms CPU, {b['wall_s']:.2f} s wall (targets at 10,000 events:"
        f" 1 request, <= {IDLE_CPU_MS:.0f} ms:"
        f" {verdict(b['requests'] <= 1 and b['cpu_ms'] <= IDLE_CPU_MS)};"
        f" median of {b['passes']} passes)"
    )
    say(
        f"idle pass with a new store per pass (as sync_coach):"
        f" {n_requests(b['new_store_requests'])}, {b['new_store_cpu_ms']:.1f} ms CPU"
    )
    say(
        f"pass with {c['changed']} changed of {c['events']}: {n_requests(c['requests'])},"
        f" {c['cpu_ms']:.0f} ms CPU, {c['wall_s']:.2f} s wall (median of {c['rounds']} rounds)"
    )


def _terminate(_signum: int, _frame: object) -> NoReturn:
    raise SystemExit(143)  # unwinds the with blocks: Radicale stopped, temp dir removed


def main(argv: list[str] | None = None) -> int:
    given = sys.argv[1:] if argv is None else argv
    if "--graph" in given:  # the same push and idle pass against the fake Microsoft Graph
        import graph_bench

        return graph_bench.main([a for a in given if a != "--graph"])
    if "--compare" in given:  # side by side with vdirsyncer 0.21 and the bare loop, 2 servers
        import compare_bench

        return compare_bench.main([a for a in given if a != "--compare"])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="scale sizes down 10x")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--reps", type=int, default=3, help="push rounds (alternating order)")
    parser.add_argument("--passes", type=int, default=7, help="idle passes measured")
    parser.add_argument("--latency-ms", type=float, default=20.0, help="round trip for (d)")
    parser.add_argument("--rounds", type=int, default=3, help="change rounds measured")
    parser.add_argument("--idle-events", type=int, default=0, help="events in (b), (c): 10000")
    parser.add_argument("--idle-only", action="store_true", help="only (b) and (c)")
    parser.add_argument(
        "--server", choices=("radicale", "memdav"), default="radicale", help="bench/memdav.py"
    )
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    say: Callable[[str], None] = (lambda _line: None) if args.json else print
    with tempfile.TemporaryDirectory(prefix="calbridge-sync-bench-") as tmp:
        result = run(args, Path(tmp), say)
    if args.json:
        print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
