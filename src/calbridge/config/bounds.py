"""``[sync.bounds]``: the most work one event or feed may cost (see ical/bounds.py)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from calbridge.ical.bounds import Bounds


class BoundsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    occurrences: int = Field(
        5000, ge=10, description="Occurrences of one event read in one window, at most."
    )
    window_days: int = Field(
        400,
        ge=7,
        description="Days a repeating event is expanded over: busy calendars at most this"
        " far ahead (busy_days is cut to it), a session series this far around its sessions.",
    )
    rule_steps: int = Field(
        100_000,
        ge=1000,
        description="Candidate times a repeat rule may step through from its DTSTART to the"
        " window's end (FREQ=SECONDLY without an end needs millions).",
    )
    resource_kb: int = Field(1024, ge=16, description="Size of one event's resource, at most.")
    lines: int = Field(
        2000,
        ge=100,
        description="Content lines (properties) of one VEVENT, at most: 5,000 ATTENDEEs or"
        " 10,000 EXDATEs are past it.",
    )
    resource_lines: int = Field(
        20000,
        ge=100,
        description="Content lines of one event's whole resource (a series and its"
        " overrides), at most.",
    )
    feed_kb: int = Field(20480, ge=64, description="Size of a whole ICS feed, at most.")

    def limits(self) -> Bounds:
        return Bounds(**self.model_dump())
