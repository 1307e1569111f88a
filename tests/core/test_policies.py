"""Booking policies, the pure rule: each key at and around its edge."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from calbridge.core.policies import Other, Policy, late_cancellation, violations

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # Monday 09:00 in Berlin
H = timedelta(hours=1)
M = timedelta(minutes=1)


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=BERLIN)


def check(
    start: datetime, policy: Policy, others: Sequence[Other] = (), now: datetime = NOW
) -> list[str]:
    return violations(start, start + H, others, now, policy, BERLIN)


def test_no_policy_allows_anything() -> None:
    assert check(NOW + M, Policy()) == []


def test_min_notice_exactly_at_the_boundary_is_allowed() -> None:
    policy = Policy(min_notice_hours=24)
    assert check(NOW + 24 * H, policy) == []
    (problem,) = check(NOW + 24 * H - M, policy)
    assert "needs 24 h notice ([policies] min_notice_hours = 24)" in problem


def test_min_notice_fraction_of_hours() -> None:
    (problem,) = check(NOW + H, Policy(min_notice_hours=1.5))
    assert "needs 1.5 h notice ([policies] min_notice_hours = 1.5)" in problem


def test_horizon_edge_and_dst() -> None:
    # now: 1 March 09:00 CET; 30 days on is 31 March 09:00 CEST (one hour less in UTC)
    now = at(1, 9, month=3).astimezone(UTC)
    policy = Policy(horizon_days=30)
    assert check(at(31, 9, month=3), policy, now=now) == []
    (problem,) = check(at(31, 9, 1, month=3), policy, now=now)
    assert "more than 30 days ahead ([policies] horizon_days = 30)" in problem
    assert at(31, 9, month=3) - now < timedelta(days=30)  # the wall clock, not 720 hours


def test_buffer_before_exactly_is_allowed_a_minute_less_is_not() -> None:
    policy = Policy(buffer_before_minutes=15)
    earlier = Other(at(24, 9), at(24, 10), Policy(), "session #7")
    assert check(at(24, 10, 15), policy, [earlier]) == []
    (problem,) = check(at(24, 10, 14), policy, [earlier])
    assert "less than 15 min from session #7" in problem
    assert "([policies] buffer_before_minutes = 15)" in problem


def test_buffer_after_and_the_others_own_buffer() -> None:
    later = Other(at(24, 12), at(24, 13), Policy(buffer_before_minutes=30), "session #8")
    policy = Policy(buffer_after_minutes=10)
    assert check(at(24, 10, 30), policy, [later]) == []
    (problem,) = check(at(24, 10, 45), policy, [later])  # ends 11:45: 15 min < 30
    assert "less than 30 min from session #8 ([policies] buffer_before_minutes = 30)" in problem
    mine = Policy(
        buffer_after_minutes=40, sources={"buffer_after_minutes": "[services.x.policies]"}
    )
    (problem,) = check(at(24, 10, 30), mine, [later])
    assert "([services.x.policies] buffer_after_minutes = 40)" in problem


def test_buffer_across_midnight() -> None:
    late = Other(at(24, 23), at(25, 0), Policy(), "session #9")
    policy = Policy(buffer_before_minutes=60)
    assert check(at(25, 1), policy, [late]) == []
    assert check(at(25, 0, 30), policy, [late])


def test_overlap_is_left_to_availability() -> None:
    other = Other(at(24, 10), at(24, 11), Policy(), "session #1")
    assert check(at(24, 10, 30), Policy(buffer_before_minutes=15)) == []
    assert check(at(24, 10, 30), Policy(), [other]) == []


def test_max_sessions_per_day_counts_the_coachs_local_day() -> None:
    policy = Policy(max_sessions_per_coach_per_day=2)
    day = [Other(at(24, 9), at(24, 10)), Other(at(24, 14), at(24, 15))]
    (problem,) = check(at(24, 16), policy, day)
    assert "already has 2 session(s) on 2026-11-24" in problem
    assert "([policies] max_sessions_per_coach_per_day = 2)" in problem
    # 23:30 on the 23rd in Berlin is the 23rd there (22:30 UTC): a different day
    assert check(at(23, 23, 0), policy, day) == []
    one = [day[0], Other(at(24, 14), at(24, 15), counts=False)]  # a team meeting
    assert check(at(24, 16), policy, one) == []


def test_max_sessions_on_a_dst_day() -> None:
    # 29 March 2026: Berlin springs forward; 00:30 and 23:30 local are the same day
    policy = Policy(max_sessions_per_coach_per_day=1)
    early = Other(at(29, 0, 30, month=3), at(29, 1, 30, month=3))
    assert check(at(29, 23, 0, month=3), policy, [early], now=at(1, 9, month=3))
    assert check(at(30, 0, 0, month=3), policy, [early], now=at(1, 9, month=3)) == []


def test_many_violations_all_named() -> None:
    policy = Policy(min_notice_hours=48, horizon_days=0, buffer_after_minutes=30)
    later = Other(NOW + 2 * H, NOW + 3 * H, Policy(), "session #2")
    found = check(NOW + H - 10 * M, policy, [later])
    assert len(found) == 2
    assert any("min_notice_hours = 48" in f for f in found)
    assert any("buffer_after_minutes = 30" in f for f in found)


def test_late_cancellation_deadline() -> None:
    policy = Policy(cancel_deadline_hours=24)
    assert not late_cancellation(NOW + 24 * H, NOW, policy)
    assert late_cancellation(NOW + 24 * H - M, NOW, policy)
