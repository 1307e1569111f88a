"""Outcomes of sessions and completion types (PRODUCT rule 8), decided from plain values.

An *outcome* says what happened (Attended, No show, ...); a *completion type* says what it
costs the client and pays the coach. Each outcome has a default type; admins add their
own types. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from calbridge.core.model import Status
from calbridge.core.money import FULL, NOTHING, Modifier, Money, price

LABEL_MAX = 15


class Outcome(StrEnum):
    # direct sessions (the client is there)
    ATTENDED = "attended"
    CANCELLED = "cancelled"
    LATE_CANCELLATION = "late-cancellation"
    NO_SHOW = "no-show"
    NON_BILLABLE = "non-billable"
    # indirect work (no client present)
    COMPLETED = "completed"
    IN_PROGRESS = "in-progress"
    ON_HOLD = "on-hold"
    NOT_STARTED = "not-started"

    @property
    def label(self) -> str:
        if self is Outcome.NON_BILLABLE:
            return "Non-billable"
        return self.value.replace("-", " ").capitalize()

    @property
    def final_status(self) -> Status | None:
        """The session's status once this outcome is saved; None: it stays as it is."""
        if self in CANCELLING:
            return Status.CANCELLED
        if self in FINISHING:
            return Status.COMPLETED
        return None

    @property
    def money(self) -> bool:
        """Whether saving this outcome saves money (a completion type) with it."""
        return self.final_status is not None


DIRECT = (
    Outcome.ATTENDED,
    Outcome.CANCELLED,
    Outcome.LATE_CANCELLATION,
    Outcome.NO_SHOW,
    Outcome.NON_BILLABLE,
)
INDIRECT = (Outcome.COMPLETED, Outcome.IN_PROGRESS, Outcome.ON_HOLD, Outcome.NOT_STARTED)
CANCELLING = frozenset({Outcome.CANCELLED, Outcome.LATE_CANCELLATION})
FINISHING = frozenset({Outcome.ATTENDED, Outcome.NO_SHOW, Outcome.NON_BILLABLE, Outcome.COMPLETED})


def parse_outcome(text: str) -> Outcome:
    """``No show``, ``no-show``, ``NO_SHOW`` ... -> Outcome.NO_SHOW."""
    key = "-".join(text.strip().lower().replace("_", " ").replace("-", " ").split())
    try:
        return Outcome(key)
    except ValueError:
        known = ", ".join(o.value for o in Outcome)
        raise ValueError(f"unknown outcome {text!r} (use one of {known})") from None


def check_fits(outcome: Outcome, direct: bool, session_id: int | None) -> None:
    """Direct sessions take direct outcomes, indirect ones indirect outcomes."""
    allowed = DIRECT if direct else INDIRECT
    if outcome not in allowed:
        kind = "direct" if direct else "indirect"
        raise ValueError(
            f"session {session_id} is {kind}: its outcome is one of"
            f" {', '.join(o.value for o in allowed)}, not {outcome.value}"
        )


def type_key(label: str) -> str:
    return label.strip().lower()


class Broad(StrEnum):
    """The broad status a completion type maps to."""

    COMPLETED = "completed"
    MISSED = "missed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class CompletionType:
    label: str
    description: str
    maps_to: Broad
    client: Modifier  # applied to the service's fee: what the client pays
    coach: Modifier  # applied to the service's wage: what the coach is paid
    enabled: bool = True
    builtin: bool = False

    @property
    def key(self) -> str:
        return type_key(self.label)

    def price(self, fee: Decimal, wage: Decimal) -> Money:
        return price(self.client, self.coach, fee, wage)

    @property
    def needs_service(self) -> bool:
        return self.client.needs_base or self.coach.needs_base


BUILTIN = (
    CompletionType(
        "completed", "Held: charged and paid in full", Broad.COMPLETED, FULL, FULL, builtin=True
    ),
    CompletionType(
        "missed",
        "Missed or cancelled late: charged and paid in full",
        Broad.MISSED,
        FULL,
        FULL,
        builtin=True,
    ),
    CompletionType(
        "cancelled",
        "Cancelled in time: nothing charged or paid",
        Broad.CANCELLED,
        NOTHING,
        NOTHING,
        builtin=True,
    ),
    CompletionType(
        "non-billable",
        "Held, not billed to the client; the coach is paid",
        Broad.COMPLETED,
        NOTHING,
        FULL,
        builtin=True,
    ),
)
BUILTIN_KEYS = frozenset(t.key for t in BUILTIN)

#: The completion type an outcome gets when none is named.
DEFAULT_TYPE = {
    Outcome.ATTENDED: "completed",
    Outcome.COMPLETED: "completed",
    Outcome.NO_SHOW: "missed",
    Outcome.LATE_CANCELLATION: "missed",
    Outcome.CANCELLED: "cancelled",
    Outcome.NON_BILLABLE: "non-billable",
}


def check_label(label: str) -> str:
    cleaned = label.strip()
    if not cleaned:
        raise ValueError("a completion type needs a label")
    if len(cleaned) > LABEL_MAX:
        raise ValueError(
            f"label {cleaned!r} is {len(cleaned)} characters; at most {LABEL_MAX} are allowed"
        )
    if any(c in cleaned for c in "[],;"):
        raise ValueError(f"label {cleaned!r} may not contain [ ] , or ;")
    return cleaned


def late(start: datetime, cancelled_at: datetime, notice: timedelta) -> bool:
    """Cancelled with less than ``notice`` left before the session started (or after)."""
    return start - cancelled_at < notice


def default_outcome(
    broad: Broad, direct: bool, start: datetime, now: datetime, notice: timedelta
) -> Outcome:
    """The outcome a completion type implies when none is named."""
    if broad is Broad.CANCELLED:
        return (
            Outcome.LATE_CANCELLATION
            if direct and late(start, now, notice)
            else (Outcome.CANCELLED)
        )
    if not direct:
        if broad is Broad.MISSED:
            raise ValueError("indirect work cannot be missed: name its --outcome")
        return Outcome.COMPLETED
    return Outcome.ATTENDED if broad is Broad.COMPLETED else Outcome.NO_SHOW
