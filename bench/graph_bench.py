"""Benchmark of calendar sync against the fake Microsoft Graph: push of 1,000, idle pass.

Run: .venv/bin/python bench/graph_bench.py [--quick] [--json] [--reps N] [--passes N]
(or bench/sync_bench.py --graph, which runs this).

Starts the fake Graph server of the tests (tests/servers/graph_server.py, aiohttp on
127.0.0.1 in a thread of this process) and a SQLite book, then measures in one run:

(a) push: 1,000 sessions planned through planning.plan, then ONE CalendarSync.run() creating
    them all in an empty Graph calendar (sync.parallel_writes POSTs in flight), against the
    floor: the same 1,000 events (the JSON graphmap.to_graph makes of the bodies calbridge
    renders) POSTed in a bare loop on one keep-alive http.client connection to another empty
    calendar. Rounds alternate the order; the median ratio calbridge / floor is reported.
    ``--latency-ms`` makes every answer of the fake wait (a network round trip to Graph,
    which the bare loop pays once per event and calbridge's parallel POSTs overlap).
(b) idle: passes with no change on the pushed calendar: HTTP requests (store.requests
    delta, the target is 1) and wall time, against the floor: one bare GET of the same
    delta link on a kept-alive connection. Median of passes.

The server shares this process (and the machine's 2 cores) with the client: both sides pay
for it alike, so the ratios compare the client-side overhead of calbridge with none.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from calbridge.calendars import graphmap as gm
from calbridge.calendars.base import resource_name
from calbridge.calendars.graph import GraphStore
from calbridge.sync import status
from servers.graph_server import FakeGraph, serve_graph
from sync_bench import (
    add_clients,
    expect,
    first_start,
    median,
    open_book,
    plan_push,
    rendered,
    reset_status,
    timed_sync,
)

JSON = {"Content-Type": "application/json", "Accept": "application/json"}


class Bare:
    """One kept-alive connection to the fake: the floor."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)

    def send(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        self.conn.request(method, path, body, JSON)
        reply = self.conn.getresponse()
        return reply.status, reply.read()

    def close(self) -> None:
        self.conn.close()


def floor_push(fake: FakeGraph, calendar: str, bodies: dict[str, bytes]) -> float:
    """POST every event in a bare loop; seconds."""
    events = [gm.to_graph(data, resource_name(uid)) for uid, data in bodies.items()]
    bare = Bare(fake.url)
    path = urlsplit(fake.calendar_url(calendar)).path + "/events"
    t0 = time.perf_counter()
    for event in events:
        code, _ = bare.send("POST", path, json.dumps(event).encode())
        if code != 201:
            raise RuntimeError(f"floor POST: {code}")
    spent = time.perf_counter() - t0
    bare.close()
    return spent


def calbridge_push(book: Any, fake: FakeGraph, calendar: str, count: int) -> tuple[float, Any]:
    reset_status(book, "push")
    with GraphStore(fake.calendar_url(calendar)) as store:
        done = timed_sync(book, book.coach("push"), store)
    expect("push", done.report, {"create": count})
    return done.wall_s, done


def push(book: Any, fake: FakeGraph, count: int, reps: int, say: Any) -> dict[str, Any]:
    add_clients(book, "push")
    uids = plan_push(book, count, first_start(book))
    bodies = rendered(book, book.coach("push"), uids)
    ours: list[float] = []
    floor: list[float] = []
    for rep in range(reps):
        sides = ["calbridge", "floor"] if rep % 2 == 0 else ["floor", "calbridge"]
        for side in sides:
            calendar = f"{side}{rep}"
            if side == "floor":
                floor.append(floor_push(fake, calendar, bodies))
            else:
                ours.append(calbridge_push(book, fake, calendar, count)[0])
        say(f"  push round {rep + 1}: calbridge {ours[-1]:.2f} s, floor {floor[-1]:.2f} s")
    ratios = [a / b for a, b in zip(ours, floor, strict=True)]
    return {
        "events": count,
        "calbridge_s": median(ours),
        "floor_s": median(floor),
        "ratio": median(ratios),
        "calendar": f"calbridge{reps - 1}",
    }


def idle(book: Any, fake: FakeGraph, calendar: str, passes: int) -> dict[str, Any]:
    from calbridge.sync.engine import CalendarSync

    with GraphStore(fake.calendar_url(calendar)) as store:
        engine = CalendarSync(book, book.coach("push"), store)
        engine.run()  # settle
        counts: list[float] = []
        walls: list[float] = []
        for _ in range(passes):
            sent, t0 = store.requests, time.perf_counter()
            report = engine.run()
            walls.append(time.perf_counter() - t0)
            counts.append(store.requests - sent)
            if report.actions:
                raise RuntimeError(f"idle pass did something: {report.actions}")
    with book.transaction() as db:
        token = status.load_state(db, "push").token or ""
    link = urlsplit(token.removeprefix("delta:").partition(" ")[2])
    bare = Bare(fake.url)
    floors: list[float] = []
    for _ in range(passes):
        t0 = time.perf_counter()
        code, _ = bare.send("GET", f"{link.path}?{link.query}")
        floors.append(time.perf_counter() - t0)
        if code != 200:
            raise RuntimeError(f"floor delta GET: {code}")
    bare.close()
    return {
        "requests_per_pass": median(counts),
        "calbridge_ms": median(walls) * 1000,
        "floor_ms": median(floors) * 1000,
        "ratio": median(walls) / median(floors),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="100 events instead of 1,000")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--reps", type=int, default=3, help="push rounds (alternating order)")
    parser.add_argument("--passes", type=int, default=7, help="idle passes measured")
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="each answer of the fake waits this long"
    )
    args = parser.parse_args(argv)
    say: Any = (lambda _line: None) if args.json else print
    count = 100 if args.quick else 1000
    with tempfile.TemporaryDirectory(prefix="calbridge-graph-bench-") as tmp:
        fake = FakeGraph(page_size=200, latency=args.latency_ms / 1000)
        with serve_graph(fake):
            book = open_book(Path(tmp))
            try:
                say(f"(a) push of {count} events to the fake Graph ({args.latency_ms:g} ms)")
                pushed = push(book, fake, count, args.reps, say)
                say(f"    ratio calbridge / bare POST loop: {pushed['ratio']:.2f}")
                say("(b) idle pass")
                quiet = idle(book, fake, pushed["calendar"], args.passes)
                say(f"    {quiet['requests_per_pass']:.0f} request(s) per pass,"
                    f" {quiet['calbridge_ms']:.1f} ms vs bare GET {quiet['floor_ms']:.1f} ms:"
                    f" ratio {quiet['ratio']:.2f}")  # fmt: skip
            finally:
                book.engine.dispose()
    if args.json:
        print(json.dumps({"latency_ms": args.latency_ms, "push": pushed, "idle": quiet}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
