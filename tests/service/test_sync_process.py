"""``calbridge run`` against a real Radicale: SIGTERM mid-sync, secrets, backoff."""

from __future__ import annotations

import base64
import json
import signal
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from sqlalchemy import func, select

from calbridge.book import Book, parties, planning
from calbridge.book.requests import PlanRequest
from calbridge.calendars.caldav import CalDAVStore
from calbridge.config.load import load_config
from calbridge.store.tables import CalendarItemRow
from cli_helpers import cli_process
from servers.caldav_servers import CalDAVServer
from servers.threaded import serving
from service.conftest import coach, daemon_config
from service.helpers import daemon, metric
from sync.conftest import fresh_calendar


def plan_sessions(config: Path, coach_id: str, count: int) -> None:
    """``count`` one-hour sessions from tomorrow on (the daemon's clock is the real one)."""
    book = Book.open(load_config(config), origin="test")
    try:
        client = f"client-{coach_id}"
        parties.add_client(book, "Ana Lopez", f"{client}@example.org", "bulk", client)
        first = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
        for k in range(count):
            start = first + timedelta(hours=2 * k)
            planning.plan(
                book,
                PlanRequest(
                    coach_id=coach_id,
                    clients=[client],
                    start=start,
                    duration=timedelta(hours=1),
                    override_availability=True,
                ),
            )
    finally:
        book.engine.dispose()


def radicale_calendar(server: CalDAVServer, tmp_path: Path) -> dict[str, Any]:
    secret = tmp_path / "radicale-password"
    secret.write_text(f"{server.password}\n")
    return {
        "url": fresh_calendar(server),
        "username": server.username,
        "password_file": str(secret),
    }


def test_sigterm_mid_sync_finishes_the_sync_and_exits_0(
    radicale: CalDAVServer, tmp_path: Path, write: Callable[..., Path]
) -> None:
    calendar = radicale_calendar(radicale, tmp_path)
    data = daemon_config(
        tmp_path, f"sqlite:///{tmp_path / 'book.db'}", [coach("maia", calendar)], interval=600
    )
    config = write(data)
    sessions = 60
    plan_sessions(config, "maia", sessions)
    with daemon(config) as d:
        d.wait_event("sync.start", calendar="maia")
        time.sleep(0.3)
        signalled = time.time()
        d.signal(signal.SIGTERM)
        assert d.wait(60) == 0, d.text()[-3000:]
        (done,) = d.of("sync.done", calendar="maia")
        assert done["ok"] is True and done["actions"] == sessions
        assert done["ts"] > signalled, "the sync ended before SIGTERM: not a mid-sync stop"
        assert d.of("daemon.stopping") and d.of("daemon.stopped")
    # Nothing lost: every session is in the calendar and recorded as synced.
    store = CalDAVStore(calendar["url"], radicale.auth)
    try:
        assert len(store.changes(None).changed) == sessions
    finally:
        store.close()
    book = Book.open(load_config(config))
    with book.transaction() as db:
        assert db.scalar(select(func.count()).select_from(CalendarItemRow)) == sessions
    book.engine.dispose()
    # And the next run finds nothing left to do.
    again = cli_process(config, "run", "--once", "--log-json", "--log-level", "debug")
    assert again.returncode == 0, again.stderr
    done_again = [json.loads(x) for x in again.stderr.splitlines() if '"sync.done"' in x]
    assert [e["actions"] for e in done_again] == [0]


def test_no_secret_reaches_the_log_of_a_full_debug_run(
    radicale: CalDAVServer, tmp_path: Path, write: Callable[..., Path]
) -> None:
    calendar = radicale_calendar(radicale, tmp_path)
    token_file = tmp_path / "busy-token"
    token_file.write_text("Tok-Secret-9f8e7d6c5b4a\n")
    base = radicale.base_url.rstrip("/")
    data = daemon_config(tmp_path, f"sqlite:///{tmp_path / 'book.db'}", [coach("maia", calendar)])
    data["coaches"][0]["busy"] = [
        {"url": f"{base}/nothing/here.ics", "token_file": str(token_file)},
        {"url": "http://calbridge:Url-Secret-1234@127.0.0.1:9/feed.ics"},
    ]
    data["mail"] = {
        "transport": "smtp",
        "host": "127.0.0.1",
        "username": "mailer",
        "password": "Mail-Secret-c0ffee42",
    }
    config = write(data)
    plan_sessions(config, "maia", 3)
    result = cli_process(config, "run", "--once", "--log-level", "debug", timeout=120)
    log = result.stdout + result.stderr
    assert "event=sync.done" in log and "calendar=maia" in log
    assert "ok=false actions=3" in log, log[-3000:]  # the Radicale password was used
    # Debug lines of calbridge and of libraries (asyncio) made it into the log.
    assert "level=debug event=sync.start" in log and "level=debug event=log logger=asyncio" in log
    basic = base64.b64encode(f"{radicale.username}:{radicale.password}".encode()).decode()
    for secret in (
        str(radicale.password),
        basic,
        "Tok-Secret-9f8e7d6c5b4a",
        "Url-Secret-1234",
        "Mail-Secret-c0ffee42",
    ):
        assert secret not in log, f"{secret!r} was logged"
    assert result.returncode == 1  # the two busy feeds failed, and --once says so


class _Throttled(BaseHTTPRequestHandler):
    """A CalDAV server that is over quota: 503 with Retry-After on everything."""

    hits: ClassVar[list[str]] = []

    def _answer(self) -> None:
        _Throttled.hits.append(self.command)
        self.send_response(503)
        self.send_header("Retry-After", "120")
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_PROPFIND = do_REPORT = do_GET = do_OPTIONS = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def throttled() -> Iterator[str]:
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), _Throttled)) as server:
        yield f"http://127.0.0.1:{server.server_port}/dav/calendars/slow/"


def test_a_throttled_calendar_backs_off_per_retry_after_and_stalls_nobody(
    throttled: str, tmp_path: Path, write: Callable[..., Path]
) -> None:
    (tmp_path / "calendars").mkdir()  # only the last level is created
    coaches = [
        coach("maia", {"url": str(tmp_path / "calendars" / "maia")}),
        coach("slow", {"url": throttled}),
    ]
    config = write(daemon_config(tmp_path, f"sqlite:///{tmp_path / 'book.db'}", coaches))
    with daemon(config) as d:
        (failed,) = d.wait_event("sync.done", calendar="slow")
        assert failed["ok"] is False and "503" in failed["error"]
        due = datetime.fromisoformat(failed["next"]).timestamp()
        assert due - failed["ts"] >= 119, "Retry-After: 120 not honoured"
        d.wait_event("sync.done", calendar="maia", count=4, ok=True)  # the others go on
        assert len(d.of("sync.start", calendar="slow")) == 1
        status = json.loads(d.get("/status")[1])
        slow = next(c for c in status["calendars"] if c["calendar"] == "slow")
        assert slow["failures"] == 1 and "503" in slow["last_error"]
        text = d.get("/metrics")[1]
        assert metric(text, "calbridge_sync_failures_total", calendar="slow") == 1
        assert metric(text, "calbridge_calendar_consecutive_failures", calendar="slow") == 1
        assert (metric(text, "calbridge_calendar_http_requests_total", calendar="maia") or 0) == 0
        d.signal(signal.SIGTERM)
        assert d.wait() == 0
