"""``calbridge run``: one asyncio process serving HTTP, syncing calendars and running jobs.

Signals: SIGTERM and SIGINT stop claiming work, let the syncs in progress finish (each
commits its own steps), give their leases back and exit 0 within ``service.grace``;
SIGHUP re-reads the TOML (an invalid file is logged with every problem and the running
configuration kept). systemd: READY=1 once HTTP serves, WATCHDOG=1 at half WatchdogSec
while the loop runs, STATUS= lines, STOPPING=1.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from calbridge.book import Book
from calbridge.config.folders import outside_state_directory
from calbridge.config.load import load_config
from calbridge.config.schema import Settings
from calbridge.errors import ConfigError
from calbridge.logevents import event
from calbridge.service import http, jobs, logs
from calbridge.service.inbound import InboundReader
from calbridge.service.lockfile import sqlite_lock
from calbridge.service.metrics import Metrics
from calbridge.service.notify import Notifier
from calbridge.service.scheduler import Runtime, Scheduler
from calbridge.web.app import bound_port, make_app, start
from calbridge.web.client_page import client_routes
from calbridge.web.feeds import feed_routes
from calbridge.web.guard import GUARD
from calbridge.web.offers import offer_routes
from calbridge.web.sms import sms_routes

log = logging.getLogger("calbridge.service")


@dataclass(frozen=True)
class Options:
    config: str | Path | None
    once: bool = False
    log_json: bool | None = None  # None: from the configuration
    log_level: str | None = None


def owner_name(settings: Settings) -> str:
    return settings.service.instance or f"{socket.gethostname()}:{os.getpid()}"


def setup_logging(settings: Settings, options: Options) -> None:
    as_json = (
        options.log_json
        if options.log_json is not None
        else (settings.service.log_format == "json")
    )
    level = options.log_level or settings.service.log_level
    logs.configure(level, as_json, logs.Redactor(logs.secrets_of(settings)))


class Daemon:
    def __init__(self, book: Book, options: Options, registry: jobs.JobRegistry) -> None:
        self.options = options
        self.rt = Runtime(book, owner_name(book.settings), Metrics(), Notifier())
        self.scheduler = Scheduler(self.rt)
        self.registry = registry
        self.inbound = InboundReader(self.rt, self.scheduler)
        self.stop = asyncio.Event()
        self.failed = False

    def job_context(self) -> jobs.JobContext:
        return jobs.JobContext(self.rt.book, self.rt.book.clock(), self.rt.owner, self.rt.metrics)

    async def main(self) -> int:
        rt, loop = self.rt, asyncio.get_running_loop()
        loop.set_default_executor(ThreadPoolExecutor(max_workers=72, thread_name_prefix="sync"))
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._on_stop, sig.name)
        loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(self.reload()))
        parts = [
            *http.installers(rt, self.scheduler),
            offer_routes(lambda: rt.book, rt.settings),
            feed_routes(lambda: rt.book, rt.settings),
            sms_routes(lambda: rt.book, rt.settings),
            client_routes(lambda: rt.book, rt.settings),
        ]
        app = make_app(parts, rt.settings.http)
        rt.metrics.watch_http(app[GUARD].stats)
        runner = await start(app, rt.settings.http.listen)
        coaches = len(rt.coach_ids())
        event(
            log,
            logging.INFO,
            "daemon.started",
            instance=rt.owner,
            port=bound_port(runner),
            coaches=coaches,
            once=self.options.once,
            pid=os.getpid(),
        )
        rt.notifier.ready(f"serving on port {bound_port(runner)}; {coaches} coaches")
        rt.metrics.up.set(1)
        watchdog = asyncio.create_task(self._watchdog())
        periodic = (
            None
            if self.options.once
            else asyncio.create_task(self.registry.forever(self.job_context, self.stop))
        )
        inbound = None if self.options.once else self.inbound.start()
        try:
            if self.options.once:
                await self.inbound.once()
            await self.scheduler.serve(self.stop, once=self.options.once)
            if self.options.once and not self.stop.is_set():
                await self.registry.run_all(self.job_context)
        finally:
            await self.inbound.stop(inbound)
            await self._shutdown(runner, watchdog, periodic)
        if self.options.once:
            return 1 if self.scheduler.failed_once or self.scheduler.db_error else 0
        return 0

    def _on_stop(self, name: str) -> None:
        if not self.stop.is_set():
            event(
                log,
                logging.INFO,
                "daemon.stopping",
                signal=name,
                syncing=sorted(self.scheduler.running),
            )
            self.rt.notifier.stopping(f"stopping on {name}")
        self.stop.set()

    async def _shutdown(self, runner, watchdog, periodic) -> None:  # type: ignore[no-untyped-def]
        grace = self.rt.settings.service.grace
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        self.rt.notifier.stopping("finishing syncs in progress")
        finished = await self.scheduler.drain(max(0.1, deadline - loop.time()))
        if periodic is not None:
            try:
                await asyncio.wait_for(periodic, max(0.1, deadline - loop.time()))
            except TimeoutError:
                finished = False
        watchdog.cancel()
        await runner.cleanup()
        if finished:
            self.scheduler.stores.close()
        self.rt.metrics.up.set(0)
        if not finished:
            event(
                log,
                logging.WARNING,
                "daemon.grace_expired",
                grace=grace,
                unfinished=sorted(self.scheduler.running),
            )
        event(
            log,
            logging.INFO,
            "daemon.stopped",
            instance=self.rt.owner,
            passes=self.scheduler.passes,
            failures=self.scheduler.failures,
        )
        self.rt.notifier.close()
        if not finished:
            # A sync thread is stuck (a server that never answers): Python would wait for it
            # at exit. Its steps are committed one by one; its lease expires by itself.
            logging.shutdown()
            os._exit(0)

    async def _watchdog(self) -> None:
        interval = self.rt.notifier.watchdog_interval()
        if interval is None or not self.rt.settings.service.watchdog:
            return
        while True:
            stalled = time.monotonic() - self.scheduler.last_tick
            # The scheduler loop wakes at least every `poll`; a stalled loop gets no ping and
            # systemd restarts the service.
            if stalled < max(2 * interval, 3 * self.rt.settings.service.poll):
                self.rt.notifier.watchdog()
            await asyncio.sleep(interval)

    async def reload(self) -> None:
        old = self.rt.book.settings
        try:
            new = await asyncio.to_thread(load_config, self.options.config)
        except ConfigError as exc:
            event(
                log,
                logging.ERROR,
                "config.reload_failed",
                source=exc.source,
                problems=[f"{k}: {m}" if k else m for k, m in exc.problems],
                kept="the running configuration",
            )
            return
        if new.database_url != old.database_url:
            event(
                log,
                logging.WARNING,
                "config.database_unchanged",
                reason="database.url changes need a restart",
            )
            new.database = old.database
        self.rt.book = replace(self.rt.book, settings=new)
        setup_logging(new, self.options)
        before, after = {c.id for c in old.coaches}, {c.id for c in new.coaches}
        for gone in before - after:
            self.rt.metrics.forget(gone)
            if gone not in self.scheduler.running:
                self.scheduler.stores.drop(gone)
        event(
            log,
            logging.INFO,
            "config.reloaded",
            coaches=len(after),
            added=sorted(after - before),
            removed=sorted(before - after),
        )
        self.scheduler.wake()


def warn_outside_state_directory(settings: Settings) -> None:
    """Under systemd, folders outside $STATE_DIRECTORY are read-only (ProtectSystem=strict):
    one warning line at start-up naming each such folder and the state directory."""
    problems = outside_state_directory(settings)
    if problems:
        event(
            log,
            logging.WARNING,
            "config.outside_state_directory",
            state_directory=os.environ.get("STATE_DIRECTORY", ""),
            problems=problems,
        )


def run(book: Book, options: Options) -> int:
    """Run the daemon on an open book (migrated); returns the exit status."""
    lock = sqlite_lock(book.settings.database_url)
    if lock is not None:
        lock.acquire()
    try:
        setup_logging(book.settings, options)
        warn_outside_state_directory(book.settings)
        registry = jobs.install_default_jobs(jobs.JobRegistry())
        book = replace(book, origin=f"daemon:{owner_name(book.settings)}")
        return asyncio.run(Daemon(book, options, registry).main())
    finally:
        if lock is not None:
            lock.release()
