"""What one sync pass read (Gathered) and what it did (Report)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from calbridge.calendars.base import Listing
from calbridge.ical.resource import Resource
from calbridge.sync import status
from calbridge.sync.planner import Known, Remote, Wanted


@dataclass
class Report:
    calendar: str
    actions: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # malformed events, with href
    refused: list[str] = field(default_factory=list)  # calendar edits a rule reverted
    held_back: str | None = None
    error: str | None = None
    dry_run: bool = False
    retry_after: float | None = None  # the server asked to wait (429/503 Retry-After)
    #: A dry run: per session, what the pass would do (``sync.preview``).
    planned: list[dict[str, Any]] = field(default_factory=list)

    def count(self, kind: str) -> int:
        return sum(1 for a in self.actions if a["action"] == kind)


@dataclass
class Gathered:
    listing: Listing
    known: dict[str, Known]
    remote: dict[str, Remote]
    deleted: set[str]
    wanted: dict[str, Wanted]
    upto: int
    state: status.State
    #: Per UID: the content last agreed on, and a write sent but not confirmed.
    refs: dict[str, tuple[bytes | None, bytes | None]] = field(default_factory=dict)
    #: How many of calbridge's events the calendar held before the pass (for the guard).
    total: int = 0
    #: Foreign events that left the calendar: (status key, href).
    foreign_gone: list[tuple[str, str]] = field(default_factory=list)
    #: Per UID: the fetched resource, read once (what an import reads again).
    resources: dict[str, Resource] = field(default_factory=dict)
