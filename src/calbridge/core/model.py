"""Domain values of the session book, independent of storage."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


class Status(StrEnum):
    REQUESTED = "requested"  # invited or offered, not yet answered
    SCHEDULED = "scheduled"  # accepted
    DECLINED = "declined"
    CANCELLED = "cancelled"
    COMPLETED = "completed"


#: Statuses that fill a client's month (PRODUCT rule 1).
COUNTED = frozenset({Status.REQUESTED, Status.SCHEDULED, Status.COMPLETED})
#: Statuses in which a session occupies the coach's time.
ACTIVE = COUNTED


class Kind(StrEnum):
    CLIENT = "client"
    VIDEO = "video"
    NON_CLIENT = "non-client"
    TEAM = "team"


#: Kinds that are sessions with clients and count toward their limit.
CLIENT_KINDS = frozenset({Kind.CLIENT, Kind.VIDEO})


class Actor(StrEnum):
    COACH = "coach"
    CLIENT = "client"
    ADMIN = "admin"

    @property
    def side(self) -> Side:
        return Side.CLIENT if self is Actor.CLIENT else Side.PRACTICE


class Side(StrEnum):
    """The two parties of a session: the practice (coach or admin) and the client."""

    PRACTICE = "practice"
    CLIENT = "client"

    @property
    def other(self) -> Side:
        return Side.CLIENT if self is Side.PRACTICE else Side.PRACTICE


class Role(StrEnum):
    CLIENT = "client"
    THIRD_PARTY = "third-party"


@dataclass(frozen=True)
class Participant:
    party_id: str
    role: Role
    partstat: str = "NEEDS-ACTION"


@dataclass
class Session:
    uid: str
    coach_id: str
    start: datetime  # aware, UTC
    end: datetime  # aware, UTC
    tzid: str
    kind: Kind = Kind.CLIENT
    direct: bool = True
    participants: list[Participant] = field(default_factory=list)
    service: str | None = None
    note: str = ""
    private_note: str = ""
    remind: bool = True
    status: Status = Status.REQUESTED
    awaiting: Side | None = None
    created_by: Actor = Actor.ADMIN
    sequence: int = 0
    series_id: int | None = None
    recurrence_id: datetime | None = None
    cancel_reason: str | None = None
    outcome: str | None = None
    id: int | None = None

    @property
    def clients(self) -> list[str]:
        return [p.party_id for p in self.participants if p.role is Role.CLIENT]

    @property
    def third_parties(self) -> list[str]:
        return [p.party_id for p in self.participants if p.role is Role.THIRD_PARTY]

    @property
    def counts_toward_limit(self) -> bool:
        return self.kind in CLIENT_KINDS and self.status in COUNTED


@dataclass(frozen=True)
class Closure:
    start: date
    end: date  # inclusive
    reason: str
    coach_id: str | None = None  # None: the whole practice
    id: int | None = None

    def covers(self, coach_id: str) -> bool:
        return self.coach_id is None or self.coach_id == coach_id


@dataclass(frozen=True)
class Client:
    id: str
    name: str
    email: str
    program: str
    timezone: str | None = None  # an IANA name; None: the coach's zone


@dataclass(frozen=True)
class ThirdParty:
    id: str
    name: str
    email: str
    timezone: str | None = None  # an IANA name; None: the coach's zone


@dataclass(frozen=True)
class SeriesSpec:
    """A recurrence: weekly or monthly on chosen weekdays, ``count`` xor ``until``."""

    repeat: str  # "weekly" | "monthly"
    weekdays: tuple[int, ...]  # 0 = Monday
    count: int | None = None
    until: date | None = None
