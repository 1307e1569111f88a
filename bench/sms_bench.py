"""Benchmark of texts through the outbox against the fake Twilio with 50 ms latency.

Run: .venv/bin/python bench/sms_bench.py [--quick] [--json] [--database-url URL]

Queues N texts, then times one sender pass (``send_due(channel="sms")``: claim, POST,
journal fsync, record, per text) against the fake Twilio (tests/servers/twilio_fake.py)
run in a process of its own, so this process's CPU time is calbridge's alone. The floor,
measured in the same run against the same fake: a bare loop of the same POSTs over one
aiohttp session with nothing else. Prints texts per second, CPU per text, and the ratio
of the outbox's rate to the floor's (1.0: the outbox costs nothing over the network).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from book_bench import database  # noqa: E402
from calbridge.book import Book  # noqa: E402
from calbridge.config.load import build  # noqa: E402
from calbridge.mail.outbox import enqueue_text  # noqa: E402
from calbridge.mail.sender import send_due  # noqa: E402
from calbridge.service import wiring  # noqa: E402
from servers.twilio_fake import SID, TOKEN  # noqa: E402

LATENCY = 0.05
BODY = "Reminder: Session: Ana Lopez with Maia Jones, Tue 24 Nov 10:00 (Europe/London)."


@contextmanager
def fake(latency: float) -> Iterator[str]:
    script = ROOT / "tests" / "servers" / "twilio_fake.py"
    env = {"PYTHONPATH": str(ROOT / "tests")}
    child = subprocess.Popen(
        [sys.executable, str(script), str(latency)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
    )
    assert child.stdout is not None and child.stdin is not None
    port = int(child.stdout.readline())
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        child.stdin.close()
        child.wait(30)


def book_for(db_url: str, base: str, tmp: Path) -> Book:
    token = tmp / "token"
    token.write_text(TOKEN, encoding="utf-8")
    data = {
        "database": {"url": db_url},
        "state_dir": str(tmp / "state"),
        "sms": {
            "transport": "twilio",
            "url": base,
            "account_sid": SID,
            "token_file": str(token),
            "from": "+447911000000",
            "status_callback": False,
        },
    }
    wiring.install()  # the mail consumer, as the command line installs it
    return Book.open(build(data, tmp), origin="bench")


def queue(book: Book, count: int) -> None:
    with book.transaction() as db:
        for n in range(count):
            phone = f"+4479111{n % 100000:05d}"
            enqueue_text(db, phone, BODY, kind="reminder", now=book.clock(), domain="bench")


def timed(run: Any) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - wall, time.process_time() - cpu


async def bare_loop(base: str, count: int) -> None:
    """The floor: the same POSTs, one after another, over one session, nothing else."""
    url = f"{base}/2010-04-01/Accounts/{SID}/Messages.json"
    auth = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    async with aiohttp.ClientSession() as http:
        for n in range(count):
            form = {"To": f"+4479111{n:05d}", "From": "+447911000000", "Body": BODY}
            async with http.post(url, data=form, headers={"Authorization": auth}) as answer:
                await answer.read()
                assert answer.status == 201, answer.status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50 texts instead of 300")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--database-url", help="PostgreSQL base URL (default: SQLite)")
    parser.add_argument("--latency", type=float, default=LATENCY)
    args = parser.parse_args()
    count = 50 if args.quick else 300
    with tempfile.TemporaryDirectory() as tmp_name, fake(args.latency) as base:
        tmp = Path(tmp_name)
        with database(args.database_url, tmp) as db_url:
            book = book_for(db_url, base, tmp)
            try:
                queue(book, count)
                report: list[Any] = []

                def outbox() -> None:
                    report.append(
                        asyncio.run(send_due(book, owner="bench", limit=count, channel="sms"))
                    )

                wall, cpu = timed(outbox)
                assert len(report[0].sent) == count, report[0]
                floor_wall, floor_cpu = timed(lambda: asyncio.run(bare_loop(base, count)))
            finally:
                book.engine.dispose()
    result = {
        "texts": count,
        "latency_ms": args.latency * 1000,
        "database": "postgresql" if args.database_url else "sqlite",
        "outbox_texts_per_second": round(count / wall, 2),
        "outbox_cpu_ms_per_text": round(cpu / count * 1000, 3),
        "floor_requests_per_second": round(count / floor_wall, 2),
        "floor_cpu_ms_per_request": round(floor_cpu / count * 1000, 3),
        "ratio_vs_floor": round(floor_wall / wall, 3),
        "cpu_overhead_ms_per_text": round((cpu - floor_cpu) / count * 1000, 3),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{count} texts, fake Twilio with {result['latency_ms']:.0f} ms latency,")
    print(f"  book on {result['database']}")
    print(
        f"outbox:    {result['outbox_texts_per_second']:8.2f} texts/s,"
        f" {result['outbox_cpu_ms_per_text']:.3f} ms CPU per text"
    )
    print(
        f"bare loop: {result['floor_requests_per_second']:8.2f} requests/s,"
        f" {result['floor_cpu_ms_per_request']:.3f} ms CPU per request"
    )
    print(
        f"ratio outbox/floor: {result['ratio_vs_floor']:.3f}"
        f" (CPU over the floor: {result['cpu_overhead_ms_per_text']:.3f} ms per text)"
    )


if __name__ == "__main__":
    main()
