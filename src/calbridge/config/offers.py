"""Settings of offers (held alternative times) and published ICS feeds."""

from __future__ import annotations

from pydantic import Field

from calbridge.config.base import Section


class OffersSettings(Section):
    hold_hours: float = Field(
        24.0,
        gt=0,
        le=24 * 14,
        description="How long offered times are held before they are released (hours).",
    )


class FeedsSettings(Section):
    refresh_minutes: int = Field(
        60, ge=5, le=24 * 60, description="REFRESH-INTERVAL asked of feed subscribers (minutes)."
    )
    past_days: int = Field(
        90, ge=0, description="How many days back a published feed still lists sessions."
    )
