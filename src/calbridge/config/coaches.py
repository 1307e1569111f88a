"""``[[coaches]]``: a coach, their working hours and their calendars (sessions, busy)."""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, PrivateAttr, SecretStr, field_validator, model_validator

from calbridge.config.base import (
    Email,
    Secret,
    Section,
    Timezone,
    read_secret,
    readable_file,
    resolve_path,
)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse_hours(spec: str) -> list[tuple[time, time]]:
    """``"09:00-12:00, 13:00-17:00"`` -> [(09:00, 12:00), (13:00, 17:00)]; "" means closed."""
    ranges: list[tuple[time, time]] = []
    for part in filter(None, (p.strip() for p in spec.split(","))):
        match = _RANGE.match(part)
        if not match:
            raise ValueError(f"{part!r} is not a range like 09:00-17:00")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
            raise ValueError(f"{part!r} is not a valid time range")
        start = time(h1, m1)
        end = time.max if h2 == 24 else time(h2, m2)
        if end <= start:
            raise ValueError(f"{part!r} ends before it starts")
        ranges.append((start, end))
    return sorted(ranges)


class DavSettings(Secret):
    """Where a calendar is and how to log in: basic, bearer token, or OAuth2 refresh token."""

    url: str = Field(..., description="CalDAV collection URL, or a folder path (vdir).")
    username: str | None = Field(None, description="Login for basic auth.")
    token: SecretStr | None = Field(None, description="Bearer token; prefer token_file.")
    token_file: Path | None = Field(None, description="File holding a bearer token.")
    oauth_token_url: str | None = Field(
        None, description="OAuth2 token endpoint (Google: https://oauth2.googleapis.com/token)."
    )
    oauth_client_id: str | None = Field(None, description="OAuth2 client id.")
    oauth_client_secret_file: Path | None = Field(None, description="File: OAuth2 secret.")
    oauth_refresh_token_file: Path | None = Field(
        None, description="File: refresh token (written by `calbridge auth google`)."
    )
    oauth_auth_url: str = Field(
        "https://accounts.google.com/o/oauth2/v2/auth",
        description="OAuth2 authorization endpoint, for `calbridge auth google`.",
    )

    @field_validator("token_file", "oauth_client_secret_file")
    @classmethod
    def _readable_files(cls, value: Path | None) -> Path | None:
        return readable_file(value)

    @field_validator("oauth_refresh_token_file")
    @classmethod
    def _token_file(cls, value: Path | None) -> Path | None:
        """Resolved like the other files, but it may not exist yet: the sign-in writes it."""
        return None if value is None else resolve_path(value)

    @model_validator(mode="after")
    def _oauth_complete(self) -> DavSettings:
        parts = (self.oauth_client_id, self.oauth_client_secret_file, self.oauth_refresh_token_file)
        if self.oauth_token_url and not all(parts):
            raise ValueError(
                "oauth_token_url needs oauth_client_id, oauth_client_secret_file and"
                " oauth_refresh_token_file"
            )
        return self

    def bearer(self) -> str | None:
        return read_secret(self.token, self.token_file)


class CalendarSettings(DavSettings):
    # Set when the configuration is loaded: the key path (for messages) and, for a folder
    # given relative, the folder it lies in, which calbridge may fill with parents.
    _key: str = PrivateAttr("calendar.url")
    _parents_within: Path | None = PrivateAttr(None)

    kind: Literal["auto", "caldav", "folder", "graph"] = Field(
        "auto",
        description="graph: url is a Microsoft Graph calendar (.../v1.0/me/calendars/ID).",
    )
    graph_client_id: str | None = Field(
        None, description="graph: the application (client) id registered in Microsoft Entra."
    )
    graph_authority: str = Field(
        "https://login.microsoftonline.com/common",
        description="graph: sign-in authority (https://login.microsoftonline.com/TENANT).",
    )
    graph_token_file: Path | None = Field(
        None, description="graph: MSAL token cache written by `calbridge auth graph` (0600)."
    )


class BusySettings(DavSettings):
    url: str = Field(..., description="CalDAV collection, ICS feed URL, or folder: busy time.")
    kind: Literal["auto", "caldav", "ics", "folder", "graph"] = Field(
        "auto", description="auto: .ics and webcal:// URLs are feeds, folders are vdir."
    )
    schedule: str | None = Field(
        None,
        description="graph, url ending in /calendar/getSchedule: the SMTP address whose"
        " free/busy is read (default: the coach's email).",
    )


class Coach(Section):
    id: str = Field(..., pattern=r"^[A-Za-z0-9_.-]+$", description="Stable id used on the CLI.")
    name: str = Field(..., min_length=1, description="Full name shown to clients.")
    email: Email = Field(..., description="Coach's address (Reply-To, ORGANIZER).")
    timezone: Timezone = Field("UTC", description="IANA timezone of the coach.")
    working_hours: dict[str, str] = Field(
        default_factory=dict, description="Weekly template, e.g. mon = '09:00-17:00'."
    )
    calendar: CalendarSettings | None = Field(None, description="Sessions calendar (two-way).")
    busy: list[BusySettings] = Field(default_factory=list, description="Read-only calendars.")
    video_url: str | None = Field(
        None, description="The coach's video-call link, given with video sessions."
    )
    phone: str | None = Field(None, description="The coach's mobile number, for texts.")
    notify: Literal["email", "sms", "both"] = Field(
        "email", description="How the coach is told (email, sms or both)."
    )

    @field_validator("working_hours")
    @classmethod
    def _hours(cls, value: dict[str, str]) -> dict[str, str]:
        problems = []
        for day, spec in value.items():
            if day not in WEEKDAYS:
                problems.append(f"{day!r} is not a weekday (use {', '.join(WEEKDAYS)})")
                continue
            try:
                parse_hours(spec)
            except ValueError as exc:
                problems.append(f"{day}: {exc}")
        if problems:
            raise ValueError("; ".join(problems))
        return value

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        from calbridge.core.phone import e164

        if not value.strip().startswith("+"):
            raise ValueError(f"{value!r}: give the number with its country code, like +44...")
        return e164(value)

    @model_validator(mode="after")
    def _sms_needs_phone(self) -> Coach:
        if self.notify != "email" and self.phone is None:
            raise ValueError(f"notify = {self.notify!r} needs the coach's phone")
        return self

    @model_validator(mode="after")
    def _free_busy_not_of_the_sessions(self) -> Coach:
        """Exchange's free/busy is a mailbox's default calendar: read for the coach's own
        address while the sessions live in that default calendar, it would hand calbridge
        its own sessions (and every move in Outlook) back as busy time."""
        cal = self.calendar
        if cal is None or cal.kind != "graph" or not cal.url.rstrip("/").endswith("/calendar"):
            return self
        mailbox = cal.url.rstrip("/")
        for n, busy in enumerate(self.busy):
            url = busy.url.rstrip("/")
            own = (busy.schedule or self.email).lower() == self.email.lower()
            if busy.kind == "graph" and url.lower() == f"{mailbox}/getschedule".lower() and own:
                raise ValueError(
                    f"busy[{n}]: the free/busy of {self.email} is its default calendar, which"
                    " is the sessions calendar: calbridge's own sessions would be busy time."
                    " Keep sessions in another calendar (calendar.url = .../me/calendars/ID)"
                    " or set busy.schedule to another address"
                )
        return self

    def hours(self) -> dict[int, list[tuple[time, time]]]:
        """Working hours by ISO weekday index (0 = Monday)."""
        return {WEEKDAYS.index(day): parse_hours(spec) for day, spec in self.working_hours.items()}

    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
