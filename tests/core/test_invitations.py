"""Unit tests of calbridge.core.invitations: who must answer a session (PRODUCT rule 3)."""

from __future__ import annotations

import pytest

from calbridge.core.invitations import answered, edited, planned
from calbridge.core.model import Actor, Kind, Side, Status
from calbridge.errors import Refused

CLIENT_KINDS = [Kind.CLIENT, Kind.VIDEO]
OTHER_KINDS = [Kind.NON_CLIENT, Kind.TEAM]


# --- planned ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", CLIENT_KINDS)
@pytest.mark.parametrize(
    ("by", "awaiting"),
    [(Actor.ADMIN, Side.CLIENT), (Actor.COACH, Side.CLIENT), (Actor.CLIENT, Side.PRACTICE)],
)
def test_planned_client_session_is_requested_from_the_other_side(
    kind: Kind, by: Actor, awaiting: Side
) -> None:
    assert planned(kind, by) == (Status.REQUESTED, awaiting)


@pytest.mark.parametrize("kind", OTHER_KINDS)
@pytest.mark.parametrize("by", list(Actor))
def test_planned_non_client_event_is_scheduled_at_once(kind: Kind, by: Actor) -> None:
    assert planned(kind, by) == (Status.SCHEDULED, None)


# --- edited -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", CLIENT_KINDS)
@pytest.mark.parametrize("status", [Status.REQUESTED, Status.SCHEDULED])
@pytest.mark.parametrize(
    ("by", "awaiting"),
    [(Actor.ADMIN, Side.CLIENT), (Actor.COACH, Side.CLIENT), (Actor.CLIENT, Side.PRACTICE)],
)
def test_edit_must_be_accepted_again_by_the_other_side(
    kind: Kind, status: Status, by: Actor, awaiting: Side
) -> None:
    assert edited(kind, status, by, client_requested=False) == (Status.REQUESTED, awaiting)


@pytest.mark.parametrize("kind", CLIENT_KINDS)
@pytest.mark.parametrize("status", [Status.REQUESTED, Status.SCHEDULED])
@pytest.mark.parametrize("by", [Actor.ADMIN, Actor.COACH])
def test_client_requested_edit_is_confirmed_at_once(kind: Kind, status: Status, by: Actor) -> None:
    assert edited(kind, status, by, client_requested=True) == (Status.SCHEDULED, None)


@pytest.mark.parametrize("kind", OTHER_KINDS)
@pytest.mark.parametrize("by", list(Actor))
@pytest.mark.parametrize("client_requested", [False, True])
def test_edit_of_non_client_event_stays_scheduled(
    kind: Kind, by: Actor, client_requested: bool
) -> None:
    assert edited(kind, Status.SCHEDULED, by, client_requested) == (Status.SCHEDULED, None)


@pytest.mark.parametrize("kind", CLIENT_KINDS)
@pytest.mark.parametrize("by", list(Actor))
def test_completed_session_cannot_be_moved(kind: Kind, by: Actor) -> None:
    with pytest.raises(Refused) as caught:
        edited(kind, Status.COMPLETED, by, client_requested=False)
    assert caught.value.code == "completed"
    assert caught.value.exit_code == 1


@pytest.mark.parametrize("kind", CLIENT_KINDS)
@pytest.mark.parametrize("by", [Actor.ADMIN, Actor.COACH])
def test_completed_session_cannot_be_moved_even_when_client_requested(
    kind: Kind, by: Actor
) -> None:
    # "client requested" confirms a new time at once; it must not reopen a completed session.
    with pytest.raises(Refused) as caught:
        edited(kind, Status.COMPLETED, by, client_requested=True)
    assert caught.value.code == "completed"


# --- answered ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("by", "awaiting"),
    [(Actor.CLIENT, Side.CLIENT), (Actor.ADMIN, Side.PRACTICE), (Actor.COACH, Side.PRACTICE)],
)
def test_accept_by_awaited_side_schedules(by: Actor, awaiting: Side) -> None:
    assert answered(Status.REQUESTED, awaiting, by, accept=True) == (Status.SCHEDULED, None)


@pytest.mark.parametrize(
    ("by", "awaiting"),
    [(Actor.CLIENT, Side.PRACTICE), (Actor.ADMIN, Side.CLIENT), (Actor.COACH, Side.CLIENT)],
)
def test_accept_by_the_wrong_side_is_refused(by: Actor, awaiting: Side) -> None:
    with pytest.raises(Refused) as caught:
        answered(Status.REQUESTED, awaiting, by, accept=True)
    assert caught.value.code == "not_awaiting"
    assert str(awaiting) in caught.value.message
    assert str(by.side) in caught.value.message


@pytest.mark.parametrize("by", list(Actor))
def test_accept_when_nobody_is_awaited_schedules(by: Actor) -> None:
    assert answered(Status.REQUESTED, None, by, accept=True) == (Status.SCHEDULED, None)


@pytest.mark.parametrize("by", list(Actor))
def test_accepting_a_scheduled_session_keeps_it_scheduled(by: Actor) -> None:
    assert answered(Status.SCHEDULED, None, by, accept=True) == (Status.SCHEDULED, None)


@pytest.mark.parametrize("status", [Status.REQUESTED, Status.SCHEDULED])
@pytest.mark.parametrize("awaiting", [Side.CLIENT, Side.PRACTICE, None])
@pytest.mark.parametrize("by", list(Actor))
def test_decline_by_either_side_declines(status: Status, awaiting: Side | None, by: Actor) -> None:
    assert answered(status, awaiting, by, accept=False) == (Status.DECLINED, None)


@pytest.mark.parametrize("status", [Status.DECLINED, Status.CANCELLED, Status.COMPLETED])
@pytest.mark.parametrize("accept", [True, False])
def test_closed_sessions_cannot_be_answered(status: Status, accept: bool) -> None:
    with pytest.raises(Refused) as caught:
        answered(status, None, Actor.CLIENT, accept)
    assert caught.value.code == "not_open"
    assert str(status) in caught.value.message


def test_plan_edit_answer_round_trip() -> None:
    status, awaiting = planned(Kind.CLIENT, Actor.ADMIN)
    assert (status, awaiting) == (Status.REQUESTED, Side.CLIENT)
    status, awaiting = answered(status, awaiting, Actor.CLIENT, accept=True)
    assert (status, awaiting) == (Status.SCHEDULED, None)
    # The client moves it: now the practice must accept.
    status, awaiting = edited(Kind.CLIENT, status, Actor.CLIENT, client_requested=False)
    assert (status, awaiting) == (Status.REQUESTED, Side.PRACTICE)
    with pytest.raises(Refused):
        answered(status, awaiting, Actor.CLIENT, accept=True)
    status, awaiting = answered(status, awaiting, Actor.COACH, accept=True)
    assert (status, awaiting) == (Status.SCHEDULED, None)
