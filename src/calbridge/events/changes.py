"""What a book operation did, as typed change events. Pure data, no I/O.

A book operation records each change that someone must hear of with ``Book.emit``,
inside its transaction: the transaction collects the events, and each installed
consumer turns them into its side effects there and then, in the same transaction (the
mail consumer, ``mail.consumer``, queues mail and texts in the outbox), so a change is
never committed without its messages, nor a message queued for a change rolled back.

They live below the book and its channels (``events``): the book imports nothing of
``mail`` or ``sms``, nor they anything of the book; the wiring (``service.wiring``)
installs the consumers (``book.consumers``). A new channel is a new consumer, not an
edit of every book operation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from calbridge.core.model import Actor, Client, Session


class Held(Protocol):
    """One time an offer holds (``store.tables_offers.HoldRow``)."""

    @property
    def position(self) -> int: ...
    @property
    def start(self) -> datetime: ...
    @property
    def end(self) -> datetime: ...


class Offer(Protocol):
    """An offer as its messages read it (``store.tables_offers.OfferRow``)."""

    @property
    def coach_id(self) -> str: ...
    @property
    def deadline(self) -> datetime: ...
    @property
    def holds(self) -> Sequence[Held]: ...


@dataclass(frozen=True)
class Planned:
    """A new session or series (all rows of its new UID; ``agreed``: booked by the client
    and confirmed at once, so the clients are only told)."""

    sessions: list[Session]
    agreed: bool = False


@dataclass(frozen=True)
class MoveAsked:
    """Client ``party`` asked on their page to move ``session`` to ``start``-``end``;
    request ``ref`` waits for the coach (`calbridge counter accept|decline`)."""

    session: Session
    party: str
    start: datetime
    end: datetime
    ref: int


@dataclass(frozen=True)
class Moved:
    """A session got a new time (``client_requested``: agreed with its clients)."""

    old: Session
    new: Session
    client_requested: bool
    by: Actor


@dataclass(frozen=True)
class Answered:
    """An acceptance or a decline (``party``: the client who answered, if named)."""

    before: Session
    after: Session
    by: Actor
    party: str | None


@dataclass(frozen=True)
class Cancelled:
    """Sessions cancelled (``following``: an occurrence and all later ones)."""

    sessions: list[Session]
    following: bool
    reason: str | None


@dataclass(frozen=True)
class ClosureNoticed:
    """A closure the participants of ``sessions`` are told of; the sessions stay."""

    sessions: list[Session]
    first: str
    last: str
    reason: str


@dataclass(frozen=True)
class Reverted:
    """A coach's calendar edit of ``session`` was undone, for ``reason``."""

    session: Session
    reason: str


@dataclass(frozen=True)
class RemindersOff:
    """Reminders of ``sessions`` are off (turned off, or the sessions left the book)."""

    sessions: list[Session]


@dataclass(frozen=True)
class SeatsAdded:
    """``parties`` joined ``sessions`` of one UID (``returning``: taken off it earlier;
    ``one``: an occurrence of a series alone, told with its RECURRENCE-ID)."""

    sessions: Sequence[Session]
    parties: Sequence[str]
    returning: Sequence[str]
    one: bool = False


@dataclass(frozen=True)
class SeatsRemoved:
    """``parties`` were taken off ``before``, rows of one UID as they were (``sequence``:
    their CANCEL's SEQUENCE; ``one``: an occurrence of a series alone)."""

    before: Sequence[Session]
    parties: Sequence[str]
    sequence: int
    one: bool = False


@dataclass(frozen=True)
class Offered:
    """Other times offered for ``session``: ``offer`` holds them, ``urls`` answer them."""

    offer: Offer
    session: Session
    client: Client
    urls: dict[str, str]


@dataclass(frozen=True)
class OfferCancelled:
    """The admin took back an open offer for ``session``."""

    offer: Offer
    session: Session
    client: Client
    urls: dict[str, str]
    reason: str


@dataclass(frozen=True)
class WaitlistOffered:
    """A freed time (starting at ``start``) offered to a waitlisted client."""

    offer: Offer
    client: Client
    urls: dict[str, str]
    start: datetime


@dataclass(frozen=True)
class WaitlistGone:
    """A waitlist offer closed before the client took it (taken, withdrawn)."""

    offer: Offer
    client: Client
    reason: str
    still_waiting: bool


Change = (
    Planned
    | Moved
    | Answered
    | Cancelled
    | ClosureNoticed
    | Reverted
    | RemindersOff
    | MoveAsked
    | SeatsAdded
    | SeatsRemoved
    | Offered
    | OfferCancelled
    | WaitlistOffered
    | WaitlistGone
)
