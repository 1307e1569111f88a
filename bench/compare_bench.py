"""calbridge side by side with vdirsyncer 0.21 and a bare PUT loop, same server, same run.

Run: .venv/bin/python bench/sync_bench.py --compare [--quick] [--rounds N] [--latency-ms MS]
                                          [--servers radicale,xandikos] [--no-far]
     (or bench/compare_bench.py directly; --case push or --case moved: that case alone)

For Radicale (tuned as in sync_bench.py) and Xandikos, each behind a loopback forwarder
(bench/forwarder.py) that counts every request and byte:

push   the same N bodies (rendered as calbridge renders them) to an empty calendar, in
       alternating order each round: `calbridge sync --coach push` as cron runs it (a new
       interpreter: start-up included), a daemon pass (sync_coach in this process, as
       `calbridge run` does it), vdirsyncer 0.21 syncing a folder holding the N .ics files to
       the collection (its first sync; a new interpreter), and the bare loop (PUT
       If-None-Match: * on one connection, in this process). Medians of the rounds.
idle   a pass with nothing changed on the calendars the last round filled: calbridge's daemon
       pass and `calbridge sync`, and `vdirsyncer sync`.
moved  10 events moved by an hour by a calendar app (GET, PUT If-Match, not counted), then
       one pass that takes them in: calbridge's daemon and vdirsyncer. PUTs counted.
far    (Radicale) the push with the forwarder ``--latency-ms`` away (each request and each
       new connection waits that long), one round.

CPU and peak memory are each process's own (the rusage of a child started by a small
launcher, see processes.measured; time.process_time in process).
calbridge's modules are byte-compiled first (compileall), as an installed package's are.
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import sync_bench as sb
from calbridge.book import Book
from calbridge.config.load import load_config
from calbridge.service import wiring
from calbridge.sync.run import sync_coach
from compare_table import print_table
from forwarder import Counts, Forwarder
from processes import Proc, Vdirsyncer, bytecode, measured, vdirsyncer_bin

SIDES = ("cron", "daemon", "vdirsyncer", "bare")
IDLE_SIDES = ("daemon", "cron", "vdirsyncer")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

CONFIG = """\
state_dir = "{state}"

[database]
url = "sqlite:///{state}/bench.db"

[programs.bench]
monthly_limit = {limit}

[[coaches]]
id = "push"
name = "Coach push"
email = "push@example.org"
timezone = "{tz}"
working_hours = {{ {hours} }}

[coaches.calendar]
url = "{url}"
{auth}"""


class Bench:
    """One server, its forwarder, calbridge's book (a config file `calbridge sync` reads too)."""

    def __init__(self, server: sb.CalDAVServer, home: Path, latency_ms: float = 0.0) -> None:
        self.server = server
        self.home = home
        home.mkdir(parents=True, exist_ok=True)
        assert server.base_url.count(":") == 2
        port = int(server.base_url.rsplit(":", 1)[1].strip("/"))
        self.fwd = Forwarder("127.0.0.1", port, latency_ms)
        self.config = home / "config.toml"
        self.write_config(server.calendar_url)
        wiring.install()  # the mail consumer, as the command line installs it
        self.book = Book.open(load_config(self.config))

    def write_config(self, url: str) -> None:
        auth = self.server.auth
        login = f'username = "{auth[0]}"\npassword = "{auth[1]}"\n' if auth else ""
        text = CONFIG.format(
            state=self.home,
            limit=sb.PROGRAM_LIMIT,
            tz=sb.TZ,
            hours=", ".join(f'{day} = "00:00-24:00"' for day in DAYS),
            url=self.fwd.url(url),
            auth=login,
        )
        self.config.write_text(text, encoding="utf-8")

    def close(self) -> None:
        self.fwd.close()
        self.book.engine.dispose()

    def counted(self, run: Callable[[], Any]) -> tuple[Any, Counts]:
        before = self.fwd.counts()
        out = run()
        return out, self.fwd.counts() - before

    # --- the sides ---------------------------------------------------------------------------

    def cron(self, url: str) -> dict[str, Any]:
        """`calbridge sync --coach push --json` in a new interpreter."""
        self.write_config(url)
        argv = [sys.executable, "-m", "calbridge", "--config", str(self.config)]
        proc: Proc
        proc, counts = self.counted(
            lambda: measured([*argv, "sync", "--coach", "push", "--json"], self.home)
        )
        return side(proc.wall_s, proc.cpu_s, counts, proc.peak_mb, actions=_actions(proc.output))

    def daemon(self, url: str) -> dict[str, Any]:
        """One pass as `calbridge run` makes it: sync_coach (a new store) in this process."""
        coach = self.book.coach("push")
        assert coach.calendar is not None
        calendar = coach.calendar.model_copy(update={"url": self.fwd.url(url)})
        coach = coach.model_copy(update={"calendar": calendar})
        cpu, t0 = time.process_time(), time.perf_counter()
        report, counts = self.counted(lambda: sync_coach(self.book, coach))
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu
        if report.error or report.held_back:
            raise RuntimeError(f"daemon pass: {report}")
        return side(wall, cpu, counts, actions=sb.kinds(report))

    def bare(self, url: str, bodies: dict[str, bytes]) -> dict[str, Any]:
        paths = [(sb.member_path(url, uid), data) for uid, data in bodies.items()]
        raw = sb.Raw(self.server, port=self.fwd.port)
        try:
            cpu, t0 = time.process_time(), time.perf_counter()
            _, counts = self.counted(lambda: sb.put_all(raw, paths))
            wall, cpu = time.perf_counter() - t0, time.process_time() - cpu
        finally:
            raw.close()
        return side(wall, cpu, counts)

    def vdirsyncer(self, pair: Vdirsyncer) -> dict[str, Any]:
        proc: Proc
        proc, counts = self.counted(pair.sync)
        return side(proc.wall_s, proc.cpu_s, counts, proc.peak_mb)


def side(
    wall: float, cpu: float, counts: Counts, peak_mb: float = 0.0, actions: Any = None
) -> dict[str, Any]:
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "requests": counts.requests,
        "kb": counts.kilobytes,
        "puts": counts.methods.get("PUT", 0),
        "peak_mb": peak_mb,
        "actions": actions,
    }


def _actions(output: str) -> dict[str, int]:
    import json

    data = json.loads(output[output.index("{") :])
    counts: dict[str, int] = {}
    for report in data["calendars"]:
        if report.get("error"):
            raise RuntimeError(f"calbridge sync: {report['error']}")
        for action in report["actions"]:
            counts[action["action"]] = counts.get(action["action"], 0) + 1
    return counts


def check(what: str, result: dict[str, Any], wanted: dict[str, int]) -> None:
    if result["actions"] is not None and result["actions"] != wanted:
        raise RuntimeError(f"{what}: expected {wanted}, got {result['actions']}")


def prepare(bench: Bench, count: int) -> tuple[dict[str, bytes], Path]:
    """The push coach's sessions planned, their bodies, and a vdir holding them."""
    sb.add_clients(bench.book, "push")
    uids = sb.plan_push(bench.book, count, sb.first_start(bench.book))
    bodies = sb.rendered(bench.book, bench.book.coach("push"), uids)
    folder = bench.home / "vdir"
    folder.mkdir()
    for uid, data in bodies.items():
        (folder / f"{uid}.ics").write_bytes(data)
    return bodies, folder


def push_round(
    bench: Bench, bodies: dict[str, bytes], folder: Path, tag: str, order: tuple[str, ...]
) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Each side pushes the bodies to its own new calendar; results and what they leave."""
    n = len(bodies)
    out: dict[str, dict[str, Any]] = {}
    left: dict[str, Any] = {}
    for name in order:
        url = sb.new_calendar(bench.server, f"{tag}-{name}")
        if name in ("cron", "daemon"):
            sb.reset_status(bench.book, "push")
            out[name] = bench.cron(url) if name == "cron" else bench.daemon(url)
            check(f"{name} push", out[name], {"create": n})
            left["calbridge"] = url
        elif name == "vdirsyncer":
            far = bench.fwd.url(url)
            pair = Vdirsyncer(bench.home / f"vds-{tag}", folder, far, bench.server.auth)
            pair.discover()
            out[name] = bench.vdirsyncer(pair)
            left["vdirsyncer"] = (url, pair)
        else:
            out[name] = bench.bare(url, bodies)
        sb.progress(f"{bench.server.name} {tag} push, {name}: {out[name]['wall_s']:.1f} s")
    return out, left


def move_ten(bench: Bench, url: str, hrefs: list[str]) -> None:
    raw = sb.Raw(bench.server)  # straight to the server: the app's requests are not counted
    try:
        for href in hrefs:
            sb.app_edit(raw, href)
    finally:
        raw.close()


def members(bench: Bench, url: str) -> list[str]:
    """Hrefs of the calendar's members, in a fixed order (a Depth 1 PROPFIND, not counted)."""
    import xml.etree.ElementTree as ET

    raw = sb.Raw(bench.server)
    try:
        body = b'<propfind xmlns="DAV:"><prop><getetag/></prop></propfind>'
        headers = {"Depth": "1", "Content-Type": "application/xml; charset=utf-8"}
        code, _, answer = raw.send("PROPFIND", urlsplit(url).path, body, **headers)
    finally:
        raw.close()
    if code != 207:
        raise RuntimeError(f"PROPFIND {url}: {code} {answer[:300]!r}")
    found = [r.findtext("{DAV:}href") or "" for r in ET.fromstring(answer).iter("{DAV:}response")]
    return sorted(h for h in found if h.endswith(".ics"))


def compare(bench: Bench, count: int, rounds: int, moved: int) -> dict[str, Any]:
    bodies, folder = prepare(bench, count)
    pushes: dict[str, list[dict[str, Any]]] = {s: [] for s in SIDES}
    left: dict[str, Any] = {}
    for rnd in range(rounds):
        order = SIDES if rnd % 2 == 0 else SIDES[::-1]
        got, left = push_round(bench, bodies, folder, f"r{rnd}", order)
        for name, result in got.items():
            pushes[name].append(result)
    cal_url = left["calbridge"]
    vds_url, pair = left["vdirsyncer"]
    idle: dict[str, list[dict[str, Any]]] = {"daemon": [], "cron": [], "vdirsyncer": []}
    for rnd in range(rounds):
        for name in IDLE_SIDES if rnd % 2 == 0 else IDLE_SIDES[::-1]:
            if name == "vdirsyncer":
                idle[name].append(bench.vdirsyncer(pair))
            else:
                idle[name].append(bench.cron(cal_url) if name == "cron" else bench.daemon(cal_url))
                check(f"idle {name}", idle[name][-1], {})
    cal_hrefs, vds_hrefs = members(bench, cal_url), members(bench, vds_url)
    # The day's last slot moved an hour later could leave the day: take every 4th member.
    step = max(1, len(cal_hrefs) // (moved * rounds))
    moves: dict[str, list[dict[str, Any]]] = {"daemon": [], "vdirsyncer": []}
    for rnd in range(rounds):
        lo = rnd * moved
        move_ten(bench, cal_url, cal_hrefs[::step][lo : lo + moved])
        moves["daemon"].append(bench.daemon(cal_url))
        check("moved pass", moves["daemon"][-1], {"import": moved})
        check("settling pass", bench.daemon(cal_url), {})
        move_ten(bench, vds_url, vds_hrefs[::step][lo : lo + moved])
        moves["vdirsyncer"].append(bench.vdirsyncer(pair))
        sb.progress(f"{bench.server.name} moved round {rnd + 1}")
    return {"events": count, "moved": moved, "push": pushes, "idle": idle, "moved_passes": moves}


def far(bench: Bench, count: int) -> dict[str, dict[str, Any]]:
    bodies, folder = prepare(bench, count)
    got, _ = push_round(bench, bodies, folder, "far", ("bare", "cron", "vdirsyncer"))
    return got


@contextmanager
def benched(name: str, tmp: Path, latency_ms: float = 0.0) -> Iterator[Bench]:
    from servers.caldav_servers import xandikos_server

    starter: Callable[[Path], AbstractContextManager[sb.CalDAVServer]] = (
        sb.radicale if name == "radicale" else xandikos_server
    )
    where = tmp / f"{name}-{latency_ms:.0f}"
    where.mkdir()
    with starter(where) as server:
        bench = Bench(server, tmp / f"{name}-{latency_ms:.0f}-book", latency_ms)
        try:
            yield bench
        finally:
            bench.close()


def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    count = args.events or (30 if args.quick else 1000)
    rounds = args.rounds or (1 if args.quick else 3)
    moved = 10
    started = time.perf_counter()
    result: dict[str, Any] = {"events": count, "rounds": rounds, "servers": {}}
    if args.case == "moved":
        from compare_moved import moved_only

        for name in args.servers.split(","):
            with benched(name, tmp) as bench:
                result["servers"][name] = moved_only(bench, count, rounds, moved, args.profile)
        result["total_s"] = time.perf_counter() - started
        return result
    bytecode()
    if args.case == "push":
        from compare_push import push_only

        for name in args.servers.split(","):
            with benched(name, tmp) as bench:
                result["servers"][name] = push_only(bench, count, rounds)
        result["total_s"] = time.perf_counter() - started
        return result
    vdirsyncer_bin()
    for name in args.servers.split(","):
        with benched(name, tmp) as bench:
            result["servers"][name] = compare(bench, count, rounds, moved)
    if not args.no_far:
        with benched("radicale", tmp, args.latency_ms) as bench:
            result["far"] = {"latency_ms": args.latency_ms, "push": far(bench, count)}
    result["total_s"] = time.perf_counter() - started
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="30 events, 1 round")
    parser.add_argument("--events", type=int, default=0, help="events pushed (default 1000)")
    parser.add_argument("--rounds", type=int, default=0, help="rounds (default 3)")
    parser.add_argument("--latency-ms", type=float, default=20.0, help="the far server's RTT")
    parser.add_argument("--json", action="store_true", help="also print the raw results")
    parser.add_argument("--servers", default="radicale,xandikos", help="which, comma-separated")
    parser.add_argument("--no-far", action="store_true", help="leave out the far push")
    parser.add_argument(
        "--case", choices=("all", "moved", "push"), default="all", help="one case alone"
    )
    parser.add_argument(
        "--profile", default="", help="with --case moved: cProfile the moved passes to PREFIX-*"
    )
    args = parser.parse_args(argv)
    if not set(args.servers.split(",")) <= {"radicale", "xandikos"}:
        parser.error("--servers: radicale, xandikos or both")
    signal.signal(signal.SIGTERM, sb._terminate)
    with tempfile.TemporaryDirectory(prefix="calbridge-compare-bench-") as tmp:
        result = run(args, Path(tmp))
    if args.case == "moved":
        from compare_moved import print_moved

        print_moved(result)
    elif args.case == "push":
        from compare_push import print_push

        print_push(result)
    else:
        print_table(result)
    if args.json:
        import json

        print(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
