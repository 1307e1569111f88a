"""Who must answer a session (PRODUCT rule 3), as transitions of (status, awaiting)."""

from __future__ import annotations

from calbridge.core.model import CLIENT_KINDS, Actor, Kind, Side, Status
from calbridge.errors import Refused

State = tuple[Status, Side | None]


def planned(kind: Kind, by: Actor, client_requested: bool = False) -> State:
    """A new session is requested until the side that did not plan it accepts;
    ``client_requested`` (the client booked it and the policy confirms that at once):
    confirmed."""
    if kind not in CLIENT_KINDS or client_requested:
        return Status.SCHEDULED, None
    return Status.REQUESTED, by.side.other


def edited(kind: Kind, status: Status, by: Actor, client_requested: bool) -> State:
    """A time change must be accepted again by the side that did not make it.

    ``client_requested`` means the new time was agreed with the client: confirmed at once.
    """
    if status is Status.COMPLETED:
        raise Refused("completed", "a completed session cannot be moved")
    if kind not in CLIENT_KINDS or client_requested:
        return Status.SCHEDULED, None
    return Status.REQUESTED, by.side.other


def answered(status: Status, awaiting: Side | None, by: Actor, accept: bool) -> State:
    """An answer: accepting confirms; declining by either side declines."""
    if status not in (Status.REQUESTED, Status.SCHEDULED):
        raise Refused("not_open", f"a {status} session cannot be answered")
    if not accept:
        return Status.DECLINED, None
    if status is Status.REQUESTED and awaiting is not None and by.side is not awaiting:
        raise Refused(
            "not_awaiting",
            f"this session waits for the {awaiting} side to answer, not the {by.side} side",
        )
    return Status.SCHEDULED, None
