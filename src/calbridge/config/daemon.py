"""The ``[service]`` section: how ``calbridge run`` schedules, leases, logs and stops."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from calbridge.config.base import Section


class DaemonSettings(Section):
    interval: float = Field(
        300.0, gt=0, description="Seconds between two syncs of the same coach's calendars."
    )
    jitter: float = Field(
        30.0, ge=0, description="Up to this many random seconds added to each interval."
    )
    concurrency: int = Field(4, ge=1, le=64, description="Calendars synced at the same time.")
    grace: float = Field(
        20.0, gt=0, description="Seconds SIGTERM waits for running syncs before giving up."
    )
    lease: float = Field(
        120.0,
        ge=5,
        description="Seconds a calendar stays claimed by an instance without renewal"
        " (a dead instance's calendars are taken over after this).",
    )
    poll: float = Field(
        1.0, gt=0, le=60, description="Seconds between looks for calendars that are due."
    )
    backoff: float = Field(
        30.0, gt=0, description="First wait in seconds after a failed sync; doubles per failure."
    )
    max_backoff: float = Field(3600.0, gt=0, description="Longest wait after failed syncs.")
    watchdog: bool = Field(
        True, description="Send systemd watchdog pings (WATCHDOG=1) when WatchdogSec is set."
    )
    log_format: Literal["text", "json"] = Field(
        "text", description="text (key=value, for people and journald) or json (one object)."
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="Lowest level logged by calbridge run."
    )
    instance: str = Field(
        "", description="Name of this instance in leases and logs; empty: host name and pid."
    )

    @model_validator(mode="after")
    def _lease_outlives_poll(self) -> DaemonSettings:
        if self.lease < 3 * self.poll:
            raise ValueError("lease must be at least three times poll (leases are renewed)")
        return self
