"""`calbridge run` reads the mailbox with IDLE: a decline appended to Dovecot reaches the
book and the coach's calendar within seconds, and SIGTERM stops the reader cleanly."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from calbridge.book import Book, parties, planning, views
from calbridge.book.requests import PlanRequest
from calbridge.config.load import load_config
from cli_helpers import write_config
from inbound.conftest import inbound_config
from inbound.replies import Answer, mail
from servers.dovecot import Dovecot
from service.conftest import coach, daemon_config
from service.helpers import daemon


def _wait(check: Callable[[], bool], timeout: float = 30.0) -> float:
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        if check():
            return time.monotonic() - began
        time.sleep(0.02)
    raise AssertionError("not in time")


def test_the_daemon_applies_a_decline_and_rewrites_the_coachs_calendar(
    tmp_path: Path, imap_server: Dovecot, folders: dict[str, str]
) -> None:
    calendar = tmp_path / "calendars" / "maia"
    calendar.parent.mkdir()  # an absolute folder calendar is created below its parent only
    data = daemon_config(
        tmp_path, f"sqlite:///{tmp_path / 'book.db'}", [coach("maia", {"url": str(calendar)})],
        interval=3600.0,  # only an answer makes the calendar due again this soon
    )  # fmt: skip
    data["inbound"] = inbound_config(imap_server, folders)
    config = write_config(tmp_path / "config.toml", data)
    book = Book.open(load_config(config), origin="test")
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)
    try:
        parties.add_client(book, "Ana Lopez", "ana@example.org", "bulk", "ana")
        (s,) = planning.plan(
            book,
            PlanRequest(
                coach_id="maia", clients=["ana"], start=start, duration=timedelta(hours=1),
                override_availability=True,
            ),
        )  # fmt: skip
        copy = calendar / f"{s.uid}.ics"
        with daemon(config) as proc:
            _wait(copy.exists)
            proc.wait_event("sync.done")
            answer = Answer(
                uid=s.uid, attendee="ana@example.org", partstat="DECLINED", start=start,
                dtstamp=datetime.now(UTC),
            )  # fmt: skip
            imap_server.append(mail(answer, "gmail"), folders["folder"])
            took = _wait(lambda: not copy.exists())
            assert views.show(book, s.id or 0)["status"] == "declined"
            print(f"reply to calendar rewritten: {took:.2f} s")
            # Due again because of the answer, not the hour's interval (the latency itself is
            # bench/inbound_bench.py's to measure: a loaded CI machine is no place for it).
            assert took < 25.0, took
            assert proc.of("inbound.applied")
            proc.signal(signal.SIGTERM)
            assert proc.wait() == 0
        assert len(imap_server.messages(folders["applied_folder"])) == 1
    finally:
        book.engine.dispose()
