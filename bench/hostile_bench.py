"""Benchmark of one pass over a calendar holding every hostile event at once (issue 11).

Run: .venv/bin/python bench/hostile_bench.py [--json]

For a vdir folder and for a real Radicale (a child process on 127.0.0.1), a SQLite book
with 10 single sessions and 5 weekly series (3 each) is pushed, then the coach's side
changes and ONE pass (``sync_all`` for the coach: busy calendars, then the sessions
calendar) is measured:

- hostile: each series master made hostile by the coach's app (FREQ=SECONDLY and
  FREQ=MINUTELY without end, 10,000 EXDATEs, 5,000 ATTENDEEs, a 3 MB DESCRIPTION), the
  same five as the coach's own events in the sessions calendar, as events of a busy
  calendar (a folder, or a collection on the same Radicale), and in a busy ICS feed, each
  beside ordinary busy events;
- floor: the same setup, the same pass, with ordinary changes instead (a LOCATION added to
  each series master, ordinary own and busy events): what a pass costs anyway.

Printed per store: wall time, CPU of this process (time.process_time), the peak of Python
allocations in the pass (tracemalloc, in a second identical run, as tracing slows the
pass), and the ratio hostile / floor; at the end the peak RSS of the whole process
(resource.getrusage), an upper bound of every pass. Target: a hostile pass under 5 s and
200 MB on a 2-core machine.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from calbridge.book import Book, parties, planning
from calbridge.book.requests import PlanRequest
from calbridge.calendars.base import AlreadyExists, CalendarStore
from calbridge.calendars.caldav import CalDAVStore
from calbridge.calendars.vdir import VdirStore
from calbridge.config.load import build
from calbridge.core.series import SeriesSpec
from calbridge.service import wiring
from calbridge.sync.run import sync_all
from hostile_events import KINDS, feed_of, hostile_event, make_hostile, plain_event
from servers.caldav_servers import CalDAVServer, mkcalendar, radicale_server
from servers.feed_server import serve_feed

ZONE = ZoneInfo("Europe/London")
FIRST = datetime(2027, 1, 4, 10, tzinfo=ZONE)  # a Monday
BUSY = datetime(2027, 2, 1, 7, tzinfo=ZONE)  # busy events: before the sessions' hours


@contextmanager
def calendars(kind: str, tmp: Path, server: CalDAVServer | None) -> Iterator[tuple[Any, ...]]:
    """(sessions calendar table, app store, busy calendar table, busy app store)."""
    if server is None:
        yield (
            {"url": str(tmp / "calendar")},
            VdirStore(tmp / "calendar"),
            {"url": str(tmp / "busy")},
            VdirStore(tmp / "busy"),
        )
        return
    urls = [server.new_calendar_url(f"{kind}-{tmp.name}-{n}") for n in ("s", "b")]
    for url in urls:
        assert mkcalendar(server, url).status == 201
    auth = dict(zip(("username", "password"), server.auth or (), strict=False))
    with CalDAVStore(urls[0], server.auth) as app, CalDAVStore(urls[1], server.auth) as busy:
        yield {"url": urls[0], **auth}, app, {"url": urls[1], "kind": "caldav", **auth}, busy


def scenario(
    kind: str, hostile: bool, server: CalDAVServer | None, traced: bool
) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as name, ExitStack() as stack:
        tmp = Path(name)
        table, app, busy_table, busy_app = stack.enter_context(calendars(kind, tmp, server))
        feed = serve_feed(b"")
        stack.callback(feed.close)
        feed_url = next(feed)
        book = open_book(tmp, table, [busy_table, {"url": feed_url}])
        series = setup(book)
        spoil(app, busy_app, series, hostile)
        from servers.feed_server import FeedServer

        FeedServer.body = feed_of(KINDS if hostile else (), BUSY, plain=3)
        return measure(book, traced)


def open_book(tmp: Path, calendar: dict[str, Any], busy: list[dict[str, Any]]) -> Book:
    hours = dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), "09:00-18:00")
    coach = {"id": "maia", "name": "Maia", "email": "maia@example.org", "timezone": str(ZONE)}
    data: dict[str, Any] = {
        "state_dir": str(tmp),
        "database": {"url": f"sqlite:///{tmp / 'bench.db'}"},
        "programs": {"bench": {"monthly_limit": 50}},
        "coaches": [coach | {"working_hours": hours, "calendar": calendar, "busy": busy}],
    }
    wiring.install()  # the mail consumer, as the command line installs it
    book = Book.open(build(data, tmp))
    for i in range(15):
        parties.add_client(book, f"Client {i}", f"c{i}@example.org", "bench", f"c{i}")
    return book


def setup(book: Book) -> list[Any]:
    """10 single sessions and 5 weekly series, pushed; the series' sessions."""
    for i in range(10):
        start = FIRST + timedelta(days=i // 5 * 7 + i % 5, hours=i % 3)
        planning.plan(book, request(f"c{i}", start))
    series = []
    for i in range(5):
        start = FIRST + timedelta(days=i, hours=5)
        spec = SeriesSpec("weekly", (start.weekday(),), count=3)
        series.append(planning.plan(book, request(f"c{10 + i}", start, spec))[0])
    sync_all(book, "maia")
    return series


def request(client: str, start: datetime, series: SeriesSpec | None = None) -> PlanRequest:
    return PlanRequest(
        coach_id="maia", clients=[client], start=start, duration=timedelta(hours=1), series=series
    )


def spoil(app: CalendarStore, busy: CalendarStore, series: list[Any], hostile: bool) -> None:
    """The coach's side changes: hostile, or ordinary (the floor)."""
    listing = app.changes(None)
    items = {i.data: i for i in app.get_many(list(listing.changed))}
    for session, kind in zip(series, KINDS, strict=True):
        item = next(i for data, i in items.items() if session.uid.encode() in data)
        if hostile:
            data = make_hostile(item.data, kind, session.start)
        else:
            data = item.data.replace(b"\r\nEND:VEVENT", b"\r\nLOCATION:Room 7\r\nEND:VEVENT", 1)
        app.update(item.href, data, item.etag)
    for i, kind in enumerate(KINDS):
        start = BUSY + timedelta(days=i)
        own = (
            hostile_event(kind, f"own-{kind}", start) if hostile else plain_event(f"own-{i}", start)
        )
        landed(app, f"own-{i}.ics", own)
        event = (
            hostile_event(kind, f"busy-{kind}", start) if hostile else plain_event(f"b-{i}", start)
        )
        landed(busy, f"busy-{i}.ics", event)
    for i in range(3):
        busy.create(f"plain-{i}.ics", plain_event(f"plain-{i}", BUSY + timedelta(days=i, hours=3)))


def landed(store: CalendarStore, name: str, data: bytes) -> None:
    """Create an event; on a loaded machine a multi-MB PUT can outlast the client's timeout,
    and its retry (If-None-Match: *) then finds the first attempt stored: that is success."""
    with contextlib.suppress(AlreadyExists):
        store.create(name, data)


def plain(start: datetime) -> Any:
    return lambda uid: plain_event(uid, start, 30)


def measure(book: Book, traced: bool) -> dict[str, float]:
    if traced:
        tracemalloc.start()
    wall, cpu = time.perf_counter(), time.process_time()
    reports, busy = sync_all(book, "maia")
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert all(r.error is None for r in reports) and all(b.error is None for b in busy)
    peak = tracemalloc.get_traced_memory()[1] / 2**20 if traced else 0.0
    tracemalloc.stop()
    book.engine.dispose()
    done = {
        "actions": float(sum(len(r.actions) for r in reports)),
        "refused": float(sum(len(r.refused) for r in reports)),
        "busy_blocks": float(sum(b.blocks or 0 for b in busy)),
    }
    return {"wall_s": wall, "cpu_s": cpu, "peak_mb": peak, **done}


def run(kind: str, server: CalDAVServer | None) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for label, hostile in (("floor", False), ("hostile", True)):
        timed = scenario(kind, hostile, server, traced=False)
        timed["peak_mb"] = scenario(kind, hostile, server, traced=True)["peak_mb"]
        result[label] = timed
    result["ratio"] = {
        key: result["hostile"][key] / max(result["floor"][key], 1e-9)
        for key in ("wall_s", "cpu_s", "peak_mb")
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    results: dict[str, Any] = {"vdir": run("vdir", None)}
    with tempfile.TemporaryDirectory() as name, radicale_server(Path(name)) as server:
        results["radicale"] = run("radicale", server)
    results["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for store in ("vdir", "radicale"):
        r = results[store]
        for label in ("floor", "hostile", "ratio"):
            v = r[label]
            unit = "x" if label == "ratio" else ""
            did = (
                ""
                if unit
                else (
                    f"  ({v['actions']:.0f} actions, {v['refused']:.0f} refused,"
                    f" {v['busy_blocks']:.0f} busy blocks)"
                )
            )
            print(
                f"{store:9} {label:8} wall {v['wall_s']:7.2f}{unit or ' s'}"
                f"  cpu {v['cpu_s']:7.2f}{unit or ' s'}  peak {v['peak_mb']:7.1f}{unit or ' MB'}"
                + did
            )
    worst = max(results[s]["hostile"]["wall_s"] for s in ("vdir", "radicale"))
    print(f"process peak RSS {results['max_rss_mb']:.0f} MB (every pass, setup included)")
    ok = worst < 5.0 and results["max_rss_mb"] < 200
    print(f"target (hostile pass < 5 s, < 200 MB): {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
