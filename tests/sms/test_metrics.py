"""/metrics counts sent and failed per channel: the daemon's outbox job sends mail and
texts in one run and counts each channel on its own."""

from __future__ import annotations

import asyncio

from book_helpers import plan_one
from calbridge.book import Book, planning
from calbridge.core.model import Actor
from calbridge.service import jobs
from calbridge.service.metrics import Metrics
from conftest import NOW
from servers.twilio_fake import Answer, FakeTwilio
from service.helpers import metric


def test_the_outbox_job_counts_sent_and_failed_per_channel(
    sms_book: Book, twilio: FakeTwilio
) -> None:
    session = plan_one(sms_book, "2026-11-24T10:00", clients=("ana", "ben"), third_parties=["doc"])
    planning.cancel(sms_book, session.id or 0, Actor.COACH)  # 2 texts; mails: 3 invites, 2 cancels
    twilio.then(Answer(400))
    registry, metrics = jobs.install_default_jobs(jobs.JobRegistry()), Metrics()
    context = jobs.JobContext(sms_book, NOW, "test", metrics)
    assert asyncio.run(registry.run_one(registry.jobs["outbox"], context))
    with sms_book.transaction() as db:
        metrics.snapshot.read(db, NOW, set())
    text = metrics.render().decode()
    assert metric(text, "calbridge_outbox_sent_total", channel="sms") == 1
    assert metric(text, "calbridge_outbox_failed_total", channel="sms") == 1
    assert metric(text, "calbridge_outbox_sent_total", channel="mail") == 5
    assert metric(text, "calbridge_outbox_failed_total", channel="mail") == 0
    assert metric(text, "calbridge_outbox_channel_depth", channel="sms") == 0
