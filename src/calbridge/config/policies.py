"""The ``[policies]`` section: booking policies, overridable per service in
``[services.NAME.policies]``, what a client's requests on their page do (also per
service), and what a client's counter-proposal does."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from calbridge.config.base import Section
from calbridge.core.policies import CHOICES, GLOBAL, KEYS, Policy

_HELP = {
    "buffer_before_minutes": "Free minutes kept before each session (0: none).",
    "buffer_after_minutes": "Free minutes kept after each session (0: none).",
    "min_notice_hours": "A session starts at least this many hours after it is booked (0: any).",
    "horizon_days": "A session starts at most this many days ahead (0: no limit).",
    "max_sessions_per_coach_per_day": "Sessions a coach has on one local day at most (0: any).",
    "cancel_deadline_hours": "Cancelled with less notice than this: a late cancellation.",
    "page_move": "Another time a client picks on their page: accept (moved at once, as"
    " client-requested) or coach (asked for, left for `calbridge counter accept|decline`).",
    "page_booking": "A session a client books on their page: coach (requested until the coach"
    " accepts it) or accept (confirmed at once, as client-requested).",
}
Choice = Literal["accept", "coach"]


class PolicyOverride(Section):
    """``[services.NAME.policies]``: any key given here wins over ``[policies]``."""

    buffer_before_minutes: int | None = Field(None, ge=0, le=24 * 60, description=_HELP[KEYS[0]])
    buffer_after_minutes: int | None = Field(None, ge=0, le=24 * 60, description=_HELP[KEYS[1]])
    min_notice_hours: float | None = Field(None, ge=0, le=24 * 366, description=_HELP[KEYS[2]])
    horizon_days: int | None = Field(None, ge=0, le=3660, description=_HELP[KEYS[3]])
    max_sessions_per_coach_per_day: int | None = Field(
        None, ge=0, le=100, description=_HELP[KEYS[4]]
    )
    cancel_deadline_hours: float | None = Field(None, ge=0, le=24 * 30, description=_HELP[KEYS[5]])
    page_move: Choice | None = Field(None, description=_HELP[CHOICES[0]])
    page_booking: Choice | None = Field(None, description=_HELP[CHOICES[1]])


class PoliciesSettings(Section):
    buffer_before_minutes: int = Field(0, ge=0, le=24 * 60, description=_HELP[KEYS[0]])
    buffer_after_minutes: int = Field(0, ge=0, le=24 * 60, description=_HELP[KEYS[1]])
    min_notice_hours: float = Field(0, ge=0, le=24 * 366, description=_HELP[KEYS[2]])
    horizon_days: int = Field(0, ge=0, le=3660, description=_HELP[KEYS[3]])
    max_sessions_per_coach_per_day: int = Field(0, ge=0, le=100, description=_HELP[KEYS[4]])
    cancel_deadline_hours: float = Field(24, ge=0, le=24 * 30, description=_HELP[KEYS[5]])
    page_move: Choice = Field("accept", description=_HELP[CHOICES[0]])
    page_booking: Choice = Field("coach", description=_HELP[CHOICES[1]])
    counter: Literal["accept", "admin"] = Field(
        "admin",
        description="A client's counter-proposal that passes the checks: accept (moved at"
        " once, as client-requested) or admin (left for `calbridge counter accept|decline`).",
    )

    def effective(self, override: PolicyOverride | None, service: str | None) -> Policy:
        """The policy of a session of ``service``: its override's keys win."""
        keys = KEYS + CHOICES
        values = {key: getattr(self, key) for key in keys}
        sources = dict.fromkeys(keys, GLOBAL)
        if override is not None:
            for key in keys:
                value = getattr(override, key)
                if value is not None:
                    values[key] = value
                    sources[key] = f"[services.{service}.policies]"
        return Policy(**values, sources=sources)
