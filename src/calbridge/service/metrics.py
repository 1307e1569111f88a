"""Prometheus metrics of one daemon (prometheus_client, a registry of its own).

Counters and histograms are this instance's; the gauges read from the database at scrape
time (seconds since the last good sync per calendar, outbox depth) describe the whole
practice, whichever instance synced. Jobs plugged in later register their own gauges
(reminder lag, holds open) on ``Metrics.registry``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from calbridge.store import leases, repo_outbox
from calbridge.store.db import Db
from calbridge.sync.status import held_calendars

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Snapshot:
    """What the database said at the last scrape."""

    def __init__(self) -> None:
        self.now: datetime | None = None
        self.last_ok: dict[str, datetime | None] = {}
        self.failing: dict[str, int] = {}
        self.outbox_queued = 0
        self.outbox_by_channel: dict[str, int] = {}
        self.held: set[str] = set()

    def read(self, db: Db, now: datetime, calendars: set[str]) -> None:
        rows = leases.sync_health(db)
        self.last_ok = {cid: ok for cid, ok, _ in rows if cid in calendars}
        self.failing = {cid: n for cid, _, n in rows if cid in calendars}
        self.held = set(held_calendars(db)) & calendars
        self.outbox_by_channel = repo_outbox.queued_by_channel(db)
        self.outbox_queued = sum(self.outbox_by_channel.values())
        self.now = now


class _FromDatabase(Collector):
    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[GaugeMetricFamily]:
        snap = self.snapshot
        since = GaugeMetricFamily(
            "calbridge_seconds_since_last_good_sync",
            "Seconds since the calendar's last successful sync (any instance); -1: never.",
            labels=["calendar"],
        )
        failing = GaugeMetricFamily(
            "calbridge_calendar_consecutive_failures",
            "Failed syncs in a row of the calendar (0 when the last one worked).",
            labels=["calendar"],
        )
        held = GaugeMetricFamily(
            "calbridge_calendar_held",
            "1 while the mass-deletion guard holds the calendar for the admin's decision.",
            labels=["calendar"],
        )
        for cid, ok in sorted(snap.last_ok.items()):
            age = (snap.now - ok).total_seconds() if ok and snap.now else -1.0
            since.add_metric([cid], age)
            failing.add_metric([cid], snap.failing.get(cid, 0))
            held.add_metric([cid], 1.0 if cid in snap.held else 0.0)
        yield since
        yield failing
        yield held
        yield GaugeMetricFamily(
            "calbridge_outbox_depth", "Messages queued in the outbox.", value=snap.outbox_queued
        )
        depth = GaugeMetricFamily(
            "calbridge_outbox_channel_depth",
            "Messages queued in the outbox, per channel.",
            labels=["channel"],
        )
        for channel in ("mail", "sms"):
            depth.add_metric([channel], snap.outbox_by_channel.get(channel, 0))
        yield depth


class _FromHttp(Collector):
    """The HTTP server's guard: connections open, and what its limits cut (web.guard)."""

    def __init__(self, read: Callable[[], tuple[int, dict[str, int]]]) -> None:
        self.read = read

    def collect(self) -> Iterator[Metric]:
        open_now, totals = self.read()
        yield GaugeMetricFamily(
            "calbridge_http_connections", "HTTP client connections open now.", value=open_now
        )
        limited = CounterMetricFamily(
            "calbridge_http_limited",
            "Connections and requests the HTTP server's limits cut, per condition.",
            labels=["condition"],
        )
        for condition, count in sorted(totals.items()):
            limited.add_metric([condition], count)
        yield limited


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.snapshot = Snapshot()
        r = self.registry
        self.passes = Counter(
            "calbridge_sync_passes", "Sync passes per calendar.", ["calendar"], registry=r
        )
        self.failures = Counter(
            "calbridge_sync_failures",
            "Failed sync passes per calendar.",
            ["calendar"],
            registry=r,
        )
        self.requests = Counter(
            "calbridge_calendar_http_requests",
            "HTTP requests sent to calendar servers, retries included.",
            ["calendar"],
            registry=r,
        )
        self.duration = Histogram(
            "calbridge_sync_duration_seconds",
            "Wall time of one coach's sync.",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
            registry=r,
        )
        self.leased = Gauge(
            "calbridge_calendars_syncing", "Calendars this instance is syncing now.", registry=r
        )
        self.up = Gauge("calbridge_up", "1 while the scheduler loop runs.", registry=r)
        self.job_runs = Counter(
            "calbridge_job_runs", "Runs of periodic jobs.", ["job", "result"], registry=r
        )
        self.outbox_sent = Counter(
            "calbridge_outbox_sent",
            "Messages this instance sent, per channel (mail, sms).",
            ["channel"],
            registry=r,
        )
        self.outbox_failed = Counter(
            "calbridge_outbox_failed",
            "Messages given up or refused for good, per channel (mail, sms).",
            ["channel"],
            registry=r,
        )
        for channel in ("mail", "sms"):  # present at 0 before the first message
            self.outbox_sent.labels(channel)
            self.outbox_failed.labels(channel)
        r.register(_FromDatabase(self.snapshot))

    def watch_http(self, read: Callable[[], tuple[int, dict[str, int]]]) -> None:
        self.registry.register(_FromHttp(read))

    def count_sent(self, channel: str, sent: int, failed: int) -> None:
        self.outbox_sent.labels(channel).inc(sent)
        self.outbox_failed.labels(channel).inc(failed)

    def forget(self, calendar: str) -> None:
        """A coach left the configuration: drop its labelled series."""
        for metric in (self.passes, self.failures, self.requests):
            with contextlib.suppress(KeyError):
                metric.remove(calendar)

    def render(self) -> bytes:
        return generate_latest(self.registry)
