"""Sending a run of creates, several at a time where the store allows it.

A first sync of a practice's book is hundreds of PUTs of new events. Each waits for the
server (70 ms per PUT into a 1,000-event Radicale, a network round trip to Google or iCloud),
and the sync's own work per event (its bookkeeping) runs between them. A store whose
``parallel_writes`` is true (CalDAV: every request stands alone, If-None-Match guards each)
gets up to ``parallel`` PUTs in flight from worker threads, so the server's time and the
client's overlap; the folder and memory stores write one at a time.

Outcomes come back to the calling thread, which keeps every database write to itself. A
create that loses a race (``PreconditionFailed``) is one outcome among others; any other
``StorageError`` stops new creates from being sent (those in flight are still reported),
like the error of a one-at-a-time loop, and is the last outcome.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from calbridge.calendars.base import CalendarStore, Item, StorageError
from calbridge.errors import PreconditionFailed

Outcome = Item | PreconditionFailed | StorageError


def create_each(
    store: CalendarStore, items: Sequence[tuple[str, bytes]], parallel: int = 1
) -> Iterator[tuple[int, Outcome]]:
    """(index into ``items``, the created Item or the error) for each create sent, in the
    order they finish."""
    if parallel <= 1 or len(items) <= 1 or not getattr(store, "parallel_writes", False):
        for index, (name, data) in enumerate(items):
            outcome = _create(store, name, data)
            yield index, outcome
            if isinstance(outcome, StorageError):
                return
        return
    with ThreadPoolExecutor(parallel, thread_name_prefix="put") as pool:
        queue = iter(enumerate(items))
        flying: dict[Future[Outcome], int] = {}
        stopped = False
        while True:
            while not stopped and len(flying) < parallel:
                nxt = next(queue, None)
                if nxt is None:
                    break
                index, (name, data) = nxt
                flying[pool.submit(_create, store, name, data)] = index
            if not flying:
                return
            done, _ = wait(flying, return_when=FIRST_COMPLETED)
            for future in done:
                outcome = future.result()
                stopped = stopped or isinstance(outcome, StorageError)
                yield flying.pop(future), outcome


def _create(store: CalendarStore, name: str, data: bytes) -> Outcome:
    try:
        return store.create(name, data)
    except (PreconditionFailed, StorageError) as exc:
        return exc
