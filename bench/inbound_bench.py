"""Inbound iMIP: how fast an answer in the mailbox becomes the book and the coach's calendar.

Starts a Dovecot (Debian's dovecot-imapd, as the tests do) and ``calbridge run`` on a
SQLite book with a vdir calendar, IDLE on. Measures:

- latency: a decline appended to the mailbox (IMAP APPEND) until the session is declined
  in the book and until its event is gone from the coach's calendar folder; median over
  ``--replies`` replies, one at a time (target: under 2 s);
- the floor, in the same run: a bare IMAPClient in IDLE on the same folder, from APPEND
  to its EXISTS notification (nothing any IMAP reader can beat); the ratio is the median
  calendar latency over the median floor;
- throughput: ``--burst`` acceptances appended at once, until every one is applied and
  filed (answers per second).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from imapclient import IMAPClient

from calbridge.book import Book, parties, planning
from calbridge.book.requests import PlanRequest
from calbridge.config.load import load_config
from calbridge.core.model import Session
from calbridge.service import wiring

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from cli_helpers import write_config
from inbound.replies import Answer, mail
from servers.dovecot import Dovecot, dovecot
from service.helpers import DaemonProcess

TARGET_SECONDS = 2.0


def config(root: Path, server: Dovecot) -> dict[str, Any]:
    return {
        "state_dir": str(root / "state"),
        "database": {"url": f"sqlite:///{root / 'book.db'}"},
        "programs": {"bulk": {"monthly_limit": 5000}},
        "mail": {"transport": "folder", "folder": str(root / "mail")},
        "http": {"listen": "127.0.0.1:0"},
        "service": {"interval": 3600.0, "jitter": 0.0, "poll": 0.05, "lease": 30, "grace": 30},
        "coaches": [
            {
                "id": "maia",
                "name": "Maia Jones",
                "email": "maia@practice.example",
                "timezone": "Europe/London",
                "working_hours": dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), "09:00-17:00"),
                "calendar": {"url": str(root / "calendars" / "maia")},
            }
        ],
        "inbound": {
            "host": server.host, "port": server.port, "tls": False, "username": server.user,
            "password": server.password, "folder": "INBOX", "idle": True,
        },
    }  # fmt: skip


def plan_many(book: Book, count: int, first_hour: int) -> list[Session]:
    base = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=2)
    out: list[Session] = []
    for i in range(count):
        start = base + timedelta(hours=first_hour + 2 * i)
        req = PlanRequest(
            coach_id="maia", clients=["ana"], start=start, duration=timedelta(hours=1),
            override_availability=True,
        )  # fmt: skip
        out.extend(planning.plan(book, req))
    return out


def wait(check: Callable[[], bool], timeout: float = 60.0) -> float:
    began = time.perf_counter()
    while not check():
        if time.perf_counter() - began > timeout:
            raise SystemExit("timed out waiting for calbridge")
        time.sleep(0.005)
    return time.perf_counter() - began


class Reader:
    """Reads the book as another process would, without the book's BEGIN IMMEDIATE (which
    takes SQLite's write lock and would slow the daemon under measurement)."""

    def __init__(self, db: Path) -> None:
        self.conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, isolation_level=None)

    def status(self, session_id: int) -> str:
        row = self.conn.execute("SELECT status FROM sessions WHERE id = ?", (session_id,))
        return str(row.fetchone()[0])

    def scheduled(self, ids: list[int]) -> int:
        marks = ",".join("?" * len(ids))
        query = f"SELECT count(*) FROM sessions WHERE status = 'scheduled' AND id IN ({marks})"
        return int(self.conn.execute(query, ids).fetchone()[0])


def _until_exists(reader: IMAPClient, got: threading.Event) -> None:
    while not reader.idle_check(timeout=5):
        pass
    got.set()


def floor(server: Dovecot, rounds: int) -> list[float]:
    """APPEND to an IDLE client's EXISTS, on a folder nobody else reads."""
    reader = IMAPClient(server.host, server.port, ssl=False)
    reader.login(server.user, server.password)
    if not reader.folder_exists("floor"):
        reader.create_folder("floor")
    reader.select_folder("floor")
    seen: list[float] = []
    for i in range(rounds):
        reader.idle()
        got = threading.Event()
        thread = threading.Thread(target=_until_exists, args=(reader, got))
        thread.start()
        began = time.perf_counter()
        server.append(f"Subject: floor {i}\r\n\r\nx\r\n".encode(), "floor")
        got.wait(10)
        seen.append(time.perf_counter() - began)
        thread.join()
        reader.idle_done()
    reader.logout()
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replies", type=int, default=100)
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument("--json", action="store_true")
    a = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="calbridge-inbound-bench-"))
    root.chmod(0o755)
    with dovecot(root / "imap") as server:
        path = write_config(root / "config.toml", config(root, server))
        wiring.install()  # the mail consumer, as the command line installs it
        book = Book.open(load_config(path), origin="bench")
        parties.add_client(book, "Ana Lopez", "ana@example.org", "bulk", "ana")
        one_by_one = plan_many(book, a.replies, 0)
        burst = plan_many(book, a.burst, 2 * a.replies + 1) if a.burst else []
        calendar = root / "calendars" / "maia"
        proc = DaemonProcess(path, level="info")
        try:
            total = len(one_by_one) + len(burst)
            wait(lambda: calendar.exists() and len(list(calendar.iterdir())) >= total, 600)
            floors = floor(server, a.replies)
            reader = Reader(root / "book.db")
            booked, rewritten = [], []
            for s in one_by_one:
                answer = Answer(uid=s.uid, attendee="ana@example.org", partstat="DECLINED",
                                start=s.start, dtstamp=datetime.now(UTC))  # fmt: skip
                copy = calendar / f"{s.uid}.ics"
                began = time.perf_counter()
                server.append(mail(answer, "gmail"), "INBOX")
                wait(lambda s=s: reader.status(s.id or 0) == "declined")  # type: ignore[misc]
                booked.append(time.perf_counter() - began)
                wait(lambda copy=copy: not copy.exists())  # type: ignore[misc]
                rewritten.append(time.perf_counter() - began)
            burst_seconds = 0.0
            if burst:
                raws = [
                    mail(
                        Answer(
                            uid=s.uid,
                            attendee="ana@example.org",
                            start=s.start,
                            dtstamp=datetime.now(UTC),
                        ),
                        "outlook",
                    )
                    for s in burst
                ]
                client = server.connect()
                began = time.perf_counter()
                for raw in raws:
                    client.append("INBOX", "", None, raw)
                client.logout()
                ids = [s.id or 0 for s in burst]
                wait(lambda: reader.scheduled(ids) == len(ids), 1800)
                burst_seconds = time.perf_counter() - began
        finally:
            proc.stop()
            book.engine.dispose()
    shutil.rmtree(root, ignore_errors=True)
    f, b, r = (statistics.median(x) for x in (floors, booked, rewritten))
    result = {
        "replies": a.replies,
        "floor_median_s": round(f, 4),
        "book_median_s": round(b, 4),
        "calendar_median_s": round(r, 4),
        "calendar_p95_s": round(sorted(rewritten)[int(0.95 * (len(rewritten) - 1))], 4),
        "ratio_to_floor": round(r / f, 1),
        "target_met": r < TARGET_SECONDS,
        "burst": a.burst,
        "burst_seconds": round(burst_seconds, 2),
        "burst_per_second": round(a.burst / burst_seconds, 1) if burst_seconds else None,
    }
    if a.json:
        print(json.dumps(result))
        return
    met = "met" if result["target_met"] else "NOT met"
    print(
        f"reply to book, median of {a.replies}: {b:.3f} s; to the coach's calendar rewritten:"
        f" {r:.3f} s (p95 {result['calendar_p95_s']:.3f} s; target < {TARGET_SECONDS} s: {met});"
        f" floor (bare IDLE client sees the APPEND) {f * 1000:.1f} ms, ratio {r / f:.1f}"
    )
    if burst_seconds:
        print(
            f"burst of {a.burst} acceptances: all applied in {burst_seconds:.1f} s ="
            f" {a.burst / burst_seconds:.1f} answers/s"
        )


if __name__ == "__main__":
    main()
