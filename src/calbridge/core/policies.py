"""Booking policies (``[policies]``, overridable per service): buffers around sessions,
minimum notice, how far ahead, how many sessions a coach has a day. Pure.

``violations`` is the one rule: the book asks it wherever a time is chosen (planning,
moving, offers, counters, the slot finder) and refuses, or skips, what it returns. Each
violation names the key and the value that refused the time, and where it was set
(``[policies]`` or ``[services.NAME.policies]``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from calbridge.core.timeutil import show

KEYS = (
    "buffer_before_minutes",
    "buffer_after_minutes",
    "min_notice_hours",
    "horizon_days",
    "max_sessions_per_coach_per_day",
    "cancel_deadline_hours",
)
#: What a client's own request on their page does: ``accept`` (confirmed at once, as
#: client-requested) or ``coach`` (left for the coach: `calbridge counter accept|decline`
#: for a move, the coach's answer for a new booking).
CHOICES = ("page_move", "page_booking")
ACCEPT, COACH = "accept", "coach"
GLOBAL = "[policies]"


@dataclass(frozen=True)
class Policy:
    """The effective values for one session; 0 means no buffer, no notice, no horizon,
    no daily cap. ``sources`` says where each key was set (default: ``[policies]``)."""

    buffer_before_minutes: int = 0
    buffer_after_minutes: int = 0
    min_notice_hours: float = 0
    horizon_days: int = 0
    max_sessions_per_coach_per_day: int = 0
    cancel_deadline_hours: float = 24
    page_move: str = ACCEPT
    page_booking: str = COACH
    sources: Mapping[str, str] = field(default_factory=dict)

    @property
    def before(self) -> timedelta:
        return timedelta(minutes=self.buffer_before_minutes)

    @property
    def restricts(self) -> bool:
        """Whether a session under this policy can break it at all (a notice, a horizon,
        a daily cap or a buffer of its own)."""
        return bool(
            self.min_notice_hours
            or self.horizon_days
            or self.max_sessions_per_coach_per_day
            or self.buffer_before_minutes
            or self.buffer_after_minutes
        )

    @property
    def after(self) -> timedelta:
        return timedelta(minutes=self.buffer_after_minutes)

    @property
    def notice(self) -> timedelta:
        return timedelta(hours=self.min_notice_hours)

    def cite(self, key: str) -> str:
        """``[policies] min_notice_hours = 24``: the key, its value and where it is set."""
        value = getattr(self, key)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return f"{self.sources.get(key, GLOBAL)} {key} = {value}"

    def horizon_end(self, now: datetime, zone: ZoneInfo) -> datetime | None:
        """The latest start allowed: the same wall-clock time ``horizon_days`` local days
        on (so a DST change in between neither gains nor loses an hour)."""
        if not self.horizon_days:
            return None
        return now.astimezone(zone) + timedelta(days=self.horizon_days)

    def earliest(self, now: datetime) -> datetime:
        return now + self.notice


@dataclass(frozen=True)
class Other:
    """Another session of the coach: its time and its own buffers."""

    start: datetime
    end: datetime
    policy: Policy = field(default_factory=Policy)  # its own buffers
    what: str = "a session"
    counts: bool = True  # counts toward max_sessions_per_coach_per_day


def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:g} h"


def violations(
    start: datetime,
    end: datetime,
    others: Sequence[Other],
    now: datetime,
    policy: Policy,
    zone: ZoneInfo,
) -> list[str]:
    """Why [start, end) breaks ``policy`` given the coach's ``others`` on and around
    that day (the session itself left out) and ``now``; empty if it does not.

    Edges are allowed: exactly the notice, exactly at the horizon, a gap of exactly the
    buffer. A gap must cover the larger of the two sessions' buffers that face it.
    """
    found: list[str] = []
    if policy.min_notice_hours and start - now < policy.notice:
        found.append(
            f"{show(start, zone)} needs {_hours(policy.notice)} notice"
            f" ({policy.cite('min_notice_hours')})"
        )
    limit = policy.horizon_end(now, zone)
    if limit is not None and start > limit:
        found.append(
            f"{show(start, zone)} is more than {policy.horizon_days} days ahead"
            f" ({policy.cite('horizon_days')})"
        )
    for other in others:
        if other.end <= start:  # it comes first: its buffer after, ours before
            mine, theirs, gap = "buffer_before_minutes", "buffer_after_minutes", start - other.end
        elif other.start >= end:
            mine, theirs, gap = "buffer_after_minutes", "buffer_before_minutes", other.start - end
        else:
            continue  # an overlap is the availability check's to refuse
        need = max(getattr(policy, mine), getattr(other.policy, theirs))
        if gap < timedelta(minutes=need):
            cite = (
                policy.cite(mine)
                if getattr(policy, mine) >= getattr(other.policy, theirs)
                else other.policy.cite(theirs)
            )
            found.append(f"{show(start, zone)} is less than {need} min from {other.what} ({cite})")
    cap = policy.max_sessions_per_coach_per_day
    if cap:
        day = start.astimezone(zone).date()
        same_day = [o for o in others if o.counts and o.start.astimezone(zone).date() == day]
        if len(same_day) >= cap:
            found.append(
                f"the coach already has {len(same_day)} session(s) on {day}"
                f" ({policy.cite('max_sessions_per_coach_per_day')})"
            )
    return found


def late_cancellation(start: datetime, now: datetime, policy: Policy) -> bool:
    """A cancellation with less than ``cancel_deadline_hours`` left is a late one."""
    return start - now < timedelta(hours=policy.cancel_deadline_hours)
