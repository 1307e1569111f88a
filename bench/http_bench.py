"""Benchmark of the HTTP server under a slowloris swarm at the 1,024 open files systemd
gives a unit by default.

Run: .venv/bin/python bench/http_bench.py [--quick] [--json] [--clients N] [--seconds S]

Starts the real ``calbridge run`` (SQLite book, one coach) with RLIMIT_NOFILE=1024, opens
N connections (default 1,100, from 101 loopback addresses, 100 of them from one) that
send a request's headers one line per 0.5 s and never finish them, reopening each one
the server closes; meanwhile /healthz and the coach's feed are fetched in turn every
0.1 s. Prints their latency (median, 99th percentile, worst) and failures, what the
guard did per second (slow connections closed to make room, refused over a cap, header
timeouts), the daemon's CPU share, and how many log lines the run wrote.
"""

from __future__ import annotations

import argparse
import json
import resource
import signal
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from calbridge.config.load import load_config  # noqa: E402
from calbridge.config.secret import load_secret  # noqa: E402
from calbridge.web.feeds import feed_url  # noqa: E402
from cli_helpers import write_config  # noqa: E402
from service.conftest import coach, daemon_config  # noqa: E402
from service.helpers import DaemonProcess  # noqa: E402
from service.slow_clients import SlowClients  # noqa: E402


def nofile_1024() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime + stime, in clock ticks


def run(clients: int, seconds: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="cb-http-bench-") as name:
        tmp = Path(name)
        (tmp / "calendars").mkdir()
        maia = coach("maia", {"url": str(tmp / "calendars" / "maia")})
        data = daemon_config(tmp, f"sqlite:///{tmp / 'book.db'}", [maia], interval=60.0)
        config = write_config(tmp / "config.toml", data)
        d = DaemonProcess(config, level="info", preexec_fn=nofile_1024)
        try:
            port = d.port()
            settings = load_config(config)
            feed = urlsplit(feed_url(settings, load_secret(settings), "coach", "maia")).path
            crowd = clients - clients // 11
            sources = [f"127.0.1.{i // 10 + 1}" for i in range(crowd)]
            sources += ["127.0.2.1"] * (clients - crowd)
            took: list[float] = []
            failed = 0
            with SlowClients(port, sources, tick=0.5) as swarm:
                time.sleep(3)
                cpu0, t0 = cpu_seconds(d.pid), time.monotonic()
                while time.monotonic() - t0 < seconds:
                    for path in ("/healthz", feed):
                        start = time.monotonic()
                        try:
                            with urllib.request.urlopen(
                                f"http://127.0.0.1:{port}{path}", timeout=5
                            ) as response:
                                response.read()
                            took.append(time.monotonic() - start)
                        except OSError:
                            failed += 1
                    time.sleep(0.1)
                cpu = (cpu_seconds(d.pid) - cpu0) / (time.monotonic() - t0)
                held = swarm.alive()
            d.signal(signal.SIGTERM)
            d.wait(30)
            counts: dict[str, int] = {}
            for line in d.of("http.limited"):
                counts[line["condition"]] = counts.get(line["condition"], 0) + line["count"]
            took.sort()
            whole = seconds + 3
            return {
                "clients": clients,
                "seconds": seconds,
                "answers": len(took),
                "failures": failed,
                "median_ms": round(statistics.median(took) * 1000, 1) if took else None,
                "p99_ms": round(took[int(len(took) * 0.99) - 1] * 1000, 1) if took else None,
                "worst_ms": round(took[-1] * 1000, 1) if took else None,
                "slow_connections_held": held,
                "per_second": {k: round(v / whole) for k, v in sorted(counts.items())},
                "daemon_cpu_share": round(cpu, 2),
                "log_lines": len(d.text().splitlines()),
                "tracebacks": d.text().count("Traceback"),
            }
        finally:
            d.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="300 clients for 5 s")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--clients", type=int, default=1100)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    clients, seconds = (300, 5.0) if args.quick else (args.clients, args.seconds)
    result = run(clients, seconds)
    if args.json:
        print(json.dumps(result))
        return
    print(
        f"http under {result['clients']:,} slow connections at 1,024 open files,"
        f" {result['seconds']:g} s: {result['answers']} answers (/healthz and a feed),"
        f" {result['failures']} failures"
    )
    print(
        f"  latency: median {result['median_ms']} ms, p99 {result['p99_ms']} ms,"
        f" worst {result['worst_ms']} ms"
    )
    print(f"  slow connections held open at the end: {result['slow_connections_held']:,}")
    print(f"  per second: {result['per_second']}")
    print(
        f"  daemon CPU: {result['daemon_cpu_share']:.0%} of a core;"
        f" log: {result['log_lines']} lines, {result['tracebacks']} tracebacks"
    )


if __name__ == "__main__":
    main()
