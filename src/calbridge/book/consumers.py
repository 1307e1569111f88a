"""Who the book hands its change events to (``events.changes``): the consumers the wiring
installs (``service.wiring``: the mail consumer), each called inside the transaction of
the change."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from calbridge.events.changes import Change

if TYPE_CHECKING:
    from calbridge.book.context import Book
    from calbridge.store.db import Db


class Consumer(Protocol):
    """Turns a change into its side effects inside the change's transaction; returns the
    Message-IDs of the mail it queued for it (the offers keep theirs)."""

    def __call__(self, book: Book, db: Db, change: Change) -> list[str]: ...


_installed: list[Consumer] = []


def install(*consumers: Consumer) -> None:
    """The consumers every book made from now on hands its changes to (once each)."""
    for consumer in consumers:
        if consumer not in _installed:
            _installed.append(consumer)


def installed() -> tuple[Consumer, ...]:
    return tuple(_installed)
