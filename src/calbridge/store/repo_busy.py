"""Busy blocks: the coach's busy time read from calendars, by source resource."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session as Db

from calbridge.store.tables import BusyBlockRow

#: (source href or UID, start, end, summary) of one busy span.
Block = tuple[str, datetime, datetime, str]


def drop_blocks(db: Db, calendar_id: str, sources: Iterable[str] | None = None) -> None:
    """Drop the calendar's blocks read from ``sources`` (None: all of them)."""
    gone = BusyBlockRow.calendar_id == calendar_id
    if sources is not None:
        gone = gone & BusyBlockRow.source.in_(set(sources))
    db.execute(delete(BusyBlockRow).where(gone))


def replace_blocks(
    db: Db, calendar_id: str, coach_id: str, sources: Iterable[str], blocks: Iterable[Block]
) -> int:
    """Drop the blocks of ``sources`` in the calendar, then add ``blocks``; how many."""
    names = set(sources)
    if names:
        drop_blocks(db, calendar_id, names)
    rows = [
        BusyBlockRow(
            calendar_id=calendar_id,
            coach_id=coach_id,
            source=source,
            start=start,
            end=end,
            summary=summary[:200],
        )
        for source, start, end, summary in blocks
    ]
    db.add_all(rows)
    return len(rows)
