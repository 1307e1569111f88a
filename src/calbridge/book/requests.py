"""What a caller asks of the book, already parsed into typed values."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from calbridge.core.model import Actor, Kind, SeriesSpec


@dataclass
class PlanRequest:
    coach_id: str
    clients: list[str] = field(default_factory=list)
    third_parties: list[str] = field(default_factory=list)
    start: datetime | None = None  # None: the first free slot in the first month with room
    end: datetime | None = None
    duration: timedelta | None = None
    kind: Kind = Kind.CLIENT
    direct: bool = True
    note: str = ""
    private_note: str = ""
    remind: bool = False  # reminders are opt-in per session (PRODUCT rule 6)
    override_availability: bool = False
    by: Actor = Actor.ADMIN
    series: SeriesSpec | None = None
    service: str | None = None
    record: bool = False  # a session that happened: in the past, scheduled, no invitations
    client_requested: bool = False  # booked by the client and confirmed at once


@dataclass
class EditRequest:
    start: datetime | None = None
    end: datetime | None = None
    duration: timedelta | None = None
    client_requested: bool = False
    override_availability: bool = False
    by: Actor = Actor.ADMIN
    remind: bool | None = None  # None: unchanged
    held: bool = False  # an offered time: its policies were checked when it was offered


@dataclass
class FieldEdit:
    """`session edit` of anything but the time; None (or empty lists): unchanged."""

    note: str | None = None
    private_note: str | None = None
    kind: Kind | None = None
    direct: bool | None = None
    service: str | None = None
    remind: bool | None = None
    add_clients: list[str] = field(default_factory=list)
    remove_clients: list[str] = field(default_factory=list)
    add_third_parties: list[str] = field(default_factory=list)
    remove_third_parties: list[str] = field(default_factory=list)
    by: Actor = Actor.ADMIN

    @property
    def seats(self) -> bool:
        """Whether participants are added or removed."""
        seats = (self.add_clients, self.remove_clients, self.add_third_parties)
        return any((*seats, self.remove_third_parties))
