"""The daemon's reader of the [inbound] mailbox: a worker thread that waits with IMAP
IDLE (or polls), applies each answer and wakes the scheduler so the coach's calendar is
rewritten at once. ``run --once`` makes one pass instead."""

from __future__ import annotations

import asyncio
import logging
import threading

from calbridge.errors import CalbridgeError
from calbridge.inbound.mailbox import PassResult, run_once, watch
from calbridge.logevents import event
from calbridge.service.scheduler import Runtime, Scheduler

log = logging.getLogger("calbridge.service")


class InboundReader:
    def __init__(self, rt: Runtime, scheduler: Scheduler) -> None:
        self.rt, self.scheduler = rt, scheduler
        self._stop = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> asyncio.Task[None] | None:
        if self.rt.settings.inbound is None:
            return None
        self._loop = asyncio.get_running_loop()
        rt = self.rt
        return asyncio.create_task(
            asyncio.to_thread(watch, lambda: rt.book, self._stop, self._done)
        )

    def _done(self, result: PassResult) -> None:
        if result.applied and self._loop is not None:
            self._loop.call_soon_threadsafe(self.scheduler.wake)

    async def once(self) -> None:
        if self.rt.settings.inbound is None:
            return
        try:
            result = await asyncio.to_thread(run_once, self.rt.book)
        except CalbridgeError as error:
            event(log, logging.ERROR, "inbound.failed", error=str(error))
            return
        event(log, logging.INFO, "inbound.pass", applied=result.applied, rejected=result.rejected)

    async def stop(self, task: asyncio.Task[None] | None) -> None:
        self._stop.set()
        if task is None:
            return
        try:
            await asyncio.wait_for(task, self.rt.settings.service.grace)
        except TimeoutError:
            event(log, logging.WARNING, "inbound.stuck", grace=self.rt.settings.service.grace)
