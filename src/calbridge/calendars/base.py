"""The calendar-storage contract every backend (memory, vdir folder, CalDAV, ICS feed) keeps.

A store holds calendar object resources (one iCalendar object each, named ``UID.ics``),
addressed by href and versioned by etag. Writes are conditional, so a concurrent edit in
the coach's calendar app is never overwritten blindly: ``create`` fails if the name
exists (If-None-Match: *), ``update`` and ``delete`` fail if the etag moved on (If-Match).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from calbridge.errors import CalbridgeError, PreconditionFailed


class StorageError(CalbridgeError):
    """A calendar store failed; never to be read as "the event was deleted"."""


class TransientError(StorageError):
    """Worth retrying later (network down, 429, 503); ``retry_after`` in seconds if known."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ReadOnlyStore(StorageError):
    """A write was attempted on a read-only store (an ICS feed)."""


class AlreadyExists(PreconditionFailed):
    """``create`` found a resource at that name already."""


class EtagMismatch(PreconditionFailed):
    """``update`` or ``delete`` found another etag (or no resource): re-read and re-plan."""


@dataclass(frozen=True)
class Item:
    """One calendar object resource as stored: raw bytes, with its href and etag."""

    href: str
    etag: str
    data: bytes


@dataclass(frozen=True)
class Listing:
    """What changed since a token.

    ``full`` means ``changed`` is the whole collection (first sync, no token support, or
    an expired token): anything known but absent from it is gone. Otherwise ``changed``
    holds new or modified members and ``deleted`` the removed ones.
    """

    token: str | None
    changed: dict[str, str] = field(default_factory=dict)  # href -> etag
    deleted: frozenset[str] = frozenset()
    full: bool = False
    #: The token is a digest of the collection's state (vdir, CalDAV without sync-token or
    #: ctag): after our own writes it is stale, and the collection could return to exactly
    #: that state, so a pass that wrote must not keep it.
    snapshot: bool = False


class CalendarStore(Protocol):
    """The operations the sync needs; each backend implements exactly these."""

    read_only: bool

    def changes(self, token: str | None) -> Listing:
        """Members changed since ``token`` (None, or an expired token: a full listing)."""
        ...

    def get_many(self, hrefs: Sequence[str]) -> list[Item]:
        """Fetch these members (in bounded batches); members that vanished are left out."""
        ...

    def create(self, name: str, data: bytes) -> Item:
        """Store a new member named ``name`` (``UID.ics``); AlreadyExists if taken."""
        ...

    def update(self, href: str, data: bytes, etag: str) -> str:
        """Replace a member if it still has ``etag``; returns the new etag."""
        ...

    def delete(self, href: str, etag: str) -> None:
        """Remove a member if it still has ``etag``."""
        ...


def resource_name(uid: str) -> str:
    """The resource name for a UID: ``UID.ics``, with unsafe characters escaped."""
    safe = "".join(c if c.isalnum() or c in "-_.@" else f"%{ord(c):02X}" for c in uid)
    if safe.startswith("."):  # hidden files in vdir; Radicale refuses such names (400)
        safe = "%2E" + safe[1:]
    return f"{safe}.ics"
