"""``[sync.bounds]``: the most work one event or feed may cost (see ical/bounds.py)."""

from __future__ import annotations

from pydantic import Field

from calbridge.config.base import Section
from calbridge.ical.bounds import DEFAULT, Bounds


class BoundsSettings(Section):
    """The TOML side of ``ical.bounds.Bounds``; the defaults are that class's own."""

    occurrences: int = Field(
        DEFAULT.occurrences,
        ge=10,
        description="Occurrences of one event read in one window, at most.",
    )
    window_days: int = Field(
        DEFAULT.window_days,
        ge=7,
        description="Days a repeating event is expanded over: busy calendars at most this"
        " far ahead (busy_days is cut to it), a session series this far around its sessions.",
    )
    rule_steps: int = Field(
        DEFAULT.rule_steps,
        ge=1000,
        description="Candidate times a repeat rule may step through from its DTSTART to the"
        " window's end (FREQ=SECONDLY without an end needs millions).",
    )
    resource_kb: int = Field(
        DEFAULT.resource_kb, ge=16, description="Size of one event's resource, at most."
    )
    lines: int = Field(
        DEFAULT.lines,
        ge=100,
        description="Content lines (properties) of one VEVENT, at most: 5,000 ATTENDEEs or"
        " 10,000 EXDATEs are past it.",
    )
    resource_lines: int = Field(
        DEFAULT.resource_lines,
        ge=100,
        description="Content lines of one event's whole resource (a series and its"
        " overrides), at most.",
    )
    feed_kb: int = Field(DEFAULT.feed_kb, ge=64, description="Size of a whole ICS feed, at most.")

    def limits(self) -> Bounds:
        return Bounds(**self.model_dump())
