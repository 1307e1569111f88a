"""Periodic jobs besides the calendar sync: a small registry the daemon runs.

A job is a name, a period and a function of a ``JobContext``; blocking functions run in a
worker thread, coroutine functions on the loop. A failing job is logged and counted and
runs again next period; it never stops the daemon or the other jobs. Jobs must be safe with
several instances (they claim their rows, like the outbox sender does).

``install_default_jobs`` plugs in the practice's jobs: reminders, the outbox sender and
offer expiry.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from calbridge.book import Book
from calbridge.logevents import event
from calbridge.service.metrics import Metrics

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobContext:
    book: Book
    now: datetime
    owner: str
    metrics: Metrics


JobFunction = Callable[[JobContext], Any]


@dataclass
class Job:
    name: str
    every: float
    run: JobFunction
    coroutine: bool = False
    last_ok: datetime | None = None
    failures: int = 0


@dataclass
class JobRegistry:
    jobs: dict[str, Job] = field(default_factory=dict)

    def add(self, name: str, every: float, run: JobFunction, *, coroutine: bool = False) -> None:
        """Register ``run`` every ``every`` seconds (``coroutine``: it returns an awaitable)."""
        if name in self.jobs:
            raise ValueError(f"job {name!r} is registered twice")
        if every <= 0:
            raise ValueError(f"job {name!r}: the period must be positive")
        self.jobs[name] = Job(name, every, run, coroutine)

    async def run_one(self, job: Job, ctx: JobContext) -> bool:
        try:
            if job.coroutine:
                result = job.run(ctx)
                await _awaited(result)
            else:
                await asyncio.to_thread(job.run, ctx)
        except Exception as exc:
            job.failures += 1
            ctx.metrics.job_runs.labels(job.name, "error").inc()
            event(
                log, logging.ERROR, "job.failed", job=job.name, error=f"{type(exc).__name__}: {exc}"
            )
            return False
        job.failures, job.last_ok = 0, ctx.now
        ctx.metrics.job_runs.labels(job.name, "ok").inc()
        event(log, logging.DEBUG, "job.done", job=job.name)
        return True

    async def run_all(self, context: Callable[[], JobContext]) -> None:
        """Each job once (``run --once``)."""
        for job in self.jobs.values():
            await self.run_one(job, context())

    async def forever(self, context: Callable[[], JobContext], stop: asyncio.Event) -> None:
        """Every job on its own period until ``stop``; a run in progress is finished."""
        if not self.jobs:
            await stop.wait()
            return
        loop = asyncio.get_running_loop()
        due = {name: loop.time() for name in self.jobs}
        while not stop.is_set():
            for name, job in list(self.jobs.items()):
                if loop.time() >= due[name]:
                    await self.run_one(job, context())
                    due[name] = loop.time() + job.every
            wait = max(0.0, min(due.values()) - loop.time())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=wait)


async def _awaited(result: Awaitable[Any] | Any) -> Any:
    if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
        return await result
    return result


def install_default_jobs(registry: JobRegistry) -> JobRegistry:
    """The practice's periodic jobs: due reminders queued, the outbox sent, expired
    offers' holds released. Each claims its rows, so several instances may run them."""
    from calbridge.book.offers import expire_offers
    from calbridge.mail.reminders import queue_due_reminders
    from calbridge.mail.sender import send_all

    registry.add("reminders", 60, lambda ctx: queue_due_reminders(ctx.book, ctx.now))

    async def outbox(ctx: JobContext) -> None:
        for report in await send_all(ctx.book, owner=ctx.owner):
            sent = len(report.sent) + len(report.recovered)
            ctx.metrics.count_sent(report.channel, sent, len(report.failed))

    registry.add("outbox", 10, outbox, coroutine=True)
    registry.add("offers", 60, lambda ctx: expire_offers(ctx.book, ctx.now))
    return registry
