"""Events the coach keeps in the sessions calendar itself: left alone, but busy time.

calbridge never touches an event it did not create (PRODUCT rule 7), yet the coach is
busy then (rule 2): its opaque, non-cancelled occurrences become busy blocks of the
calendar ``<coach>:sessions``, replaced when it changes and dropped when it goes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from calbridge.book import Book
from calbridge.calendars.base import Item
from calbridge.config.schema import Coach
from calbridge.store import repo_busy
from calbridge.sync.busy import busy_of

log = logging.getLogger(__name__)


def busy_calendar(coach: Coach) -> str:
    return f"{coach.id}:sessions"


def blocks_of(book: Book, coach: Coach, item: Item) -> list[repo_busy.Block]:
    """The busy spans of one foreign event (none if it cannot be read)."""
    found, _ = busy_of(book, coach, busy_calendar(coach), item)
    return [(item.href, i.start, i.end, i.summary) for i in found]


def replace(book: Book, db: Any, coach: Coach, items: Iterable[Item], gone: Iterable[str]) -> None:
    """Busy blocks for ``items`` (changed foreign events) and none for ``gone`` hrefs."""
    changed = list(items)
    blocks = [b for item in changed for b in blocks_of(book, coach, item)]
    sources = {item.href for item in changed} | set(gone)
    repo_busy.replace_blocks(db, busy_calendar(coach), coach.id, sources, blocks)
