"""Booking policies in the book, on SQLite and PostgreSQL: plan, edit, slots and offers
refuse or skip what a policy forbids, a service's own policies win, and
--override-availability lifts them but never the monthly limit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from book_helpers import at, move, plan_one, snapshot
from calbridge.book import Book, parties, views
from calbridge.core.model import Kind
from calbridge.errors import Refused, UserError
from offers.helpers import offer

# Now: Saturday 2026-11-21 12:00 UTC (London is on UTC). Maia works 09-17 on weekdays.
POLICIES = {
    "min_notice_hours": 48,
    "horizon_days": 60,
    "buffer_before_minutes": 15,
    "buffer_after_minutes": 15,
    "max_sessions_per_coach_per_day": 2,
}
SERVICES = {
    "coaching": {"fee": "80.00", "wage": "40.00"},
    "urgent": {"fee": "90.00", "wage": "45.00", "policies": {"min_notice_hours": 0}},
    "careful": {"fee": "90.00", "wage": "45.00", "policies": {"min_notice_hours": 72}},
}


@pytest.fixture
def pbook(make_book: Callable[..., Book], tmp_path: Path) -> Book:
    b = make_book(
        policies=POLICIES,
        services=SERVICES,
        state_dir=str(tmp_path / "state"),
        mail={"from": "sessions@practice.example"},
    )
    for name, cid in (("Ana Lopez", "ana"), ("Ben Ng", "ben"), ("Eve Ode", "eve")):
        parties.add_client(b, name, f"{cid}@example.org", "standard", cid)
    return b


def refused(call: Callable[[], Any], *words: str) -> str:
    with pytest.raises(Refused) as caught:
        call()
    assert caught.value.code == "policy", caught.value
    text = str(caught.value)
    for word in words:
        assert word in text, text
    return text


def test_plan_needs_the_notice_exactly_at_the_boundary_passes(pbook: Book) -> None:
    before = snapshot(pbook)
    refused(
        lambda: plan_one(pbook, "2026-11-23T11:30"),
        "needs 48 h notice ([policies] min_notice_hours = 48)",
    )
    assert snapshot(pbook) == before  # nothing half-written
    assert plan_one(pbook, "2026-11-23T12:00").start == at("2026-11-23T12:00")


def test_plan_beyond_the_horizon_is_refused(pbook: Book) -> None:
    refused(lambda: plan_one(pbook, "2027-01-20T12:30"), "([policies] horizon_days = 60)")
    plan_one(pbook, "2027-01-20T12:00")


def test_buffers_and_the_daily_cap(pbook: Book) -> None:
    plan_one(pbook, "2026-11-24T10:00", clients=("ana",))
    refused(
        lambda: plan_one(pbook, "2026-11-24T11:10", clients=("ben",)),
        "less than 15 min from session #",
        "buffer_before_minutes = 15",
    )
    refused(
        lambda: plan_one(pbook, "2026-11-24T09:00", clients=("ben",), minutes=50),
        "buffer_after_minutes = 15",
    )
    plan_one(pbook, "2026-11-24T11:15", clients=("ben",))  # exactly the buffer
    refused(
        lambda: plan_one(pbook, "2026-11-24T15:00", clients=("eve",)),
        "already has 2 session(s) on 2026-11-24",
        "max_sessions_per_coach_per_day = 2",
    )
    # a team meeting is not a booking: no policy, and it does not count toward the cap
    plan_one(pbook, "2026-11-24T15:00", clients=(), kind=Kind.TEAM)


def test_edit_checks_the_policies_the_session_itself_left_out(pbook: Book) -> None:
    s = plan_one(pbook, "2026-11-25T10:00", clients=("ana",))
    plan_one(pbook, "2026-11-25T14:00", clients=("ben",))
    moved = move(pbook, s.id or 0, "2026-11-25T12:00")  # the day's count excludes itself
    assert moved.start == at("2026-11-25T12:00")
    refused(lambda: move(pbook, s.id or 0, "2026-11-25T13:00"), "buffer_after_minutes = 15")
    refused(lambda: move(pbook, s.id or 0, "2026-11-23T10:00"), "min_notice_hours = 48")
    # a client-requested move (a counter takes this path) is checked the same way
    refused(
        lambda: move(pbook, s.id or 0, "2026-11-23T11:00", client_requested=True),
        "min_notice_hours",
    )


def test_a_services_own_policy_wins(pbook: Book) -> None:
    refused(
        lambda: plan_one(pbook, "2026-11-24T09:00", service="careful"),
        "needs 72 h notice ([services.careful.policies] min_notice_hours = 72)",
    )
    s = plan_one(pbook, "2026-11-23T09:00", service="urgent")  # 45 h: no notice asked
    # its other keys stay the global ones
    refused(lambda: plan_one(pbook, "2026-11-23T10:05", clients=("ben",), service="urgent"))
    assert s.service == "urgent"


def test_override_lifts_policies_but_not_the_monthly_limit(pbook: Book) -> None:
    plan_one(pbook, "2026-11-23T09:00", override_availability=True)  # inside the notice
    plan_one(pbook, "2026-11-23T10:00", override_availability=True)  # inside the buffer
    with pytest.raises(Refused) as caught:  # ana: 2 a month
        plan_one(pbook, "2026-11-24T10:00", override_availability=True)
    assert caught.value.code == "monthly_limit"


def test_slots_skip_what_the_policies_forbid(pbook: Book) -> None:
    plan_one(pbook, "2026-11-24T10:00", clients=("ben",))
    found = views.slots(pbook, "maia", "ana", "2026-11", timedelta(minutes=60))["slots"]
    starts = [s["start"][:16] for s in found]
    assert starts[0] == "2026-11-23T12:00"  # 48 h from now
    tuesday = [s for s in starts if s.startswith("2026-11-24")]
    assert tuesday[:2] == ["2026-11-24T11:30", "2026-11-24T12:30"]  # not 09:00: ends 10:00
    for s in found:  # every slot leaves 15 min either side of the 10:00-11:00 session
        start, end = at(s["start"][:16]), at(s["end"][:16])
        assert end <= at("2026-11-24T09:45") or start >= at("2026-11-24T11:15"), s
    urgent = views.slots(pbook, "maia", "ana", "2026-11", timedelta(minutes=60), "urgent")
    assert urgent["slots"][0]["start"][:16] == "2026-11-23T09:00"


def test_slots_skip_full_days_and_the_horizon(pbook: Book) -> None:
    plan_one(pbook, "2026-11-26T09:00", clients=("ben",))
    plan_one(pbook, "2026-11-26T14:00", clients=("eve",))
    found = views.slots(pbook, "maia", "ana", "2026-11", timedelta(minutes=60))["slots"]
    assert found and not [s for s in found if s["start"].startswith("2026-11-26")]
    later = views.slots(pbook, "maia", "ana", "2027-01", timedelta(minutes=60))["slots"]
    assert later and max(s["start"][:16] for s in later) <= "2027-01-20T12:00"


def test_the_default_start_respects_the_policies(pbook: Book) -> None:
    s = plan_one(pbook, None)
    assert s.start == at("2026-11-23T12:00")
    team = plan_one(pbook, None, clients=(), kind=Kind.TEAM)  # no booking: no policy
    assert team.start == at("2026-11-23T09:00")


def test_offers_refuse_times_a_policy_forbids(pbook: Book) -> None:
    s = plan_one(pbook, "2026-11-30T10:00", clients=("ana",))
    before = snapshot(pbook)
    refused(lambda: offer(pbook, s.id or 0, "2026-11-23T10:00"), "min_notice_hours = 48")
    assert snapshot(pbook) == before
    made = offer(pbook, s.id or 0, "2026-11-23T10:00", override_availability=True)
    assert made.holds


def test_slots_for_an_unknown_service_is_a_usage_error(pbook: Book) -> None:
    with pytest.raises(UserError, match="unknown service 'nope'"):
        views.slots(pbook, "maia", "ana", "2026-11", None, "nope")


def test_a_session_without_a_service_takes_the_default_services_policies(
    make_settings: Callable[..., Any],
) -> None:
    settings = make_settings(
        policies=POLICIES, services=SERVICES, outcomes={"default_service": "careful"}
    )
    policy = settings.policy(None)
    assert policy.cite("min_notice_hours") == "[services.careful.policies] min_notice_hours = 72"
    assert policy.cite("buffer_after_minutes") == "[policies] buffer_after_minutes = 15"
    assert settings.policy("coaching").min_notice_hours == 48


def test_an_offered_time_is_honoured_when_the_notice_has_run_down(pbook: Book, clock: Any) -> None:
    from calbridge.book.offer_answers import act
    from calbridge.config.secret import load_secret
    from offers.helpers import token_of

    s = plan_one(pbook, "2026-11-30T10:00", clients=("ana",))
    made = offer(pbook, s.id or 0, "2026-11-23T14:00")  # 50 h ahead: meets the 48 h
    clock.now += timedelta(hours=20)  # 30 h left when ana answers, within the hold
    act(pbook, load_secret(pbook.settings), token_of(made.links["1"]))
    assert views.show(pbook, s.id or 0)["start"].startswith("2026-11-23T14:00")
    refused(lambda: move(pbook, s.id or 0, "2026-11-23T15:30"), "min_notice_hours = 48")


def test_buffers_keep_clear_of_busy_calendar_time_too(pbook: Book) -> None:
    """The coach's dentist appointment (a busy calendar's block) gets the session's own
    buffers, in planning and in the slot finder."""
    from calbridge.store.tables import BusyBlockRow

    with pbook.transaction() as db:
        db.add(
            BusyBlockRow(
                calendar_id="maia-busy",
                coach_id="maia",
                source="dentist.ics",
                start=at("2026-11-26T14:00"),
                end=at("2026-11-26T15:00"),
                summary="Dentist",
            )
        )
    refused(lambda: plan_one(pbook, "2026-11-26T15:05"), "buffer_before_minutes = 15")
    refused(lambda: plan_one(pbook, "2026-11-26T12:50"), "buffer_after_minutes = 15")
    starts = [s["start"][11:16] for s in views.slots(pbook, "maia", "ana", "2026-11", None)["slots"]
              if s["start"].startswith("2026-11-26")]  # fmt: skip
    assert "15:00" not in starts and "13:00" not in starts, starts
    assert plan_one(pbook, "2026-11-26T15:15").start == at("2026-11-26T15:15")


def test_a_session_without_rules_of_its_own_keeps_clear_of_anothers_buffer(
    make_book: Callable[..., Book], tmp_path: Path
) -> None:
    """No [policies] at all; only the "careful" service keeps 30 minutes after its
    sessions: a session of a service with no rules still may not start in them, and with
    no buffer anywhere nothing is refused."""
    services = {
        "plain": {"fee": "80.00", "wage": "40.00"},
        "careful": {"fee": "90.00", "wage": "45.00", "policies": {"buffer_after_minutes": 30}},
    }
    b = make_book(services=services, state_dir=str(tmp_path / "state"))
    for name, cid in (("Ana Lopez", "ana"), ("Ben Ng", "ben")):
        parties.add_client(b, name, f"{cid}@example.org", "standard", cid)
    assert not b.settings.policy("plain").restricts and b.settings.buffered_anywhere()
    plan_one(b, "2026-11-24T10:00", clients=("ana",), service="careful")
    refused(
        lambda: plan_one(b, "2026-11-24T11:10", clients=("ben",), service="plain"),
        "less than 30 min from session #",
        "[services.careful.policies] buffer_after_minutes = 30",
    )
    plan_one(b, "2026-11-24T11:30", clients=("ben",), service="plain")
    free = make_book(services={"plain": services["plain"]}, state_dir=str(tmp_path / "s2"))
    assert not free.settings.buffered_anywhere()  # the same book, configured without buffers
    plan_one(free, "2026-12-01T10:00", clients=("ana",), service="plain")
    plan_one(free, "2026-12-01T11:00", clients=("ana",), service="plain")  # back to back
