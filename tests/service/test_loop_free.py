"""The daemon's event loop stays free while the outbox sends: /healthz answers in time.

The outbox pass and the HTTP server share one event loop in ``calbridge run``. Every
transaction, journal fsync and folder write of the pass runs in a worker thread, so a
slow disk (here: every fsync takes 3 ms more, as on a busy spinning disk or a network
volume) delays the mail, never the answers. On the code before that change the pass
held the loop for all of its 500 messages: /healthz waited seconds.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import threading
import time
import urllib.request
from email.message import EmailMessage
from pathlib import Path

import pytest

from book_helpers import plan_one
from calbridge.book import Book
from calbridge.mail.outbox import enqueue
from calbridge.mail.sender import send_due
from calbridge.service import http
from calbridge.service.metrics import Metrics
from calbridge.service.notify import Notifier
from calbridge.service.scheduler import Runtime, Scheduler
from calbridge.web.app import bound_port, make_app, start
from calbridge.web.offers import offer_routes

MESSAGES = 500
SLOW_FSYNC = 0.003
#: The issue's bound for an answer while the outbox sends.
BOUND = 0.050


def _queue(book: Book, count: int) -> None:
    with book.transaction() as db:
        for n in range(count):
            message = EmailMessage()
            message["From"] = "coach@example.org"
            message["To"] = f"client{n}@example.org"
            message["Subject"] = f"Notice {n}"
            message.set_content(f"Message {n} of a burst.\n")
            enqueue(db, message, kind="notice", now=book.clock(), domain="example.org")


def _probe(url: str, stop: threading.Event, times: list[float]) -> None:
    """GET ``url`` back to back from another thread until ``stop``; each answer's time."""
    while not stop.is_set():
        started = time.perf_counter()
        with urllib.request.urlopen(url, timeout=30) as answer:
            assert answer.status == 200, answer.status
            answer.read()
        times.append(time.perf_counter() - started)
        time.sleep(0.005)


def _offer_path(book: Book) -> str:
    """The path of a real offer link, as the client's mail carries it."""
    from offers.helpers import offer, token_of

    session = plan_one(book, "2026-12-01T10:00")
    made = offer(book, session.id or 0, "2026-12-02T10:00", "2026-12-03T14:00")
    return f"/offer/{token_of(made.links['1'])}"


async def _serve_while_sending(book: Book, offer_path: str) -> tuple[list[float], list[float], int]:
    rt = Runtime(book, "loop-test", Metrics(), Notifier())
    scheduler = Scheduler(rt)
    scheduler.last_tick = time.monotonic() + 3600  # no scheduler runs here: not "stalled"
    parts = [*http.installers(rt, scheduler), offer_routes(lambda: book, rt.settings)]
    runner = await start(make_app(parts), "127.0.0.1:0")
    base = f"http://127.0.0.1:{bound_port(runner)}"
    healthz: list[float] = []
    page: list[float] = []
    stop = threading.Event()
    probes = [
        threading.Thread(target=_probe, args=(f"{base}/healthz", stop, healthz)),
        threading.Thread(target=_probe, args=(base + offer_path, stop, page)),
    ]
    try:
        for probe in probes:
            probe.start()
        report = await send_due(book, owner="loop-test", limit=MESSAGES + 10)
    finally:
        stop.set()
        for probe in probes:
            await asyncio.to_thread(probe.join, 60)
        await runner.cleanup()
    return healthz, page, len(report.sent)


def test_healthz_and_an_offer_page_answer_while_the_outbox_sends_500(
    book: Book, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    offer_path = _offer_path(book)  # queues the invitation and the offer mail too
    _queue(book, MESSAGES)
    real_fsync = os.fsync

    def slow_fsync(fd: int) -> None:
        time.sleep(SLOW_FSYNC)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", slow_fsync)
    healthz, page, sent = asyncio.run(_serve_while_sending(book, offer_path))
    assert sent > MESSAGES
    assert len(list(book.settings.mail.folder.glob("*.eml"))) == sent
    for name, times in (("/healthz", healthz), ("an offer page", page)):
        assert len(times) >= 10, f"{name} answered only {len(times)} times during the pass"
        median = statistics.median(times)
        assert median < BOUND, (
            f"{name}: median {median * 1000:.0f} ms over {len(times)} answers "
            f"(slowest {max(times) * 1000:.0f} ms) while the outbox sent {MESSAGES}"
        )
