"""The configuration schema: the only place that knows keys, types, defaults and help.

Every field's ``description`` is its help text; ``config.example.toml`` is tested to
mention every key defined here. The sections live in their own modules (base, mail,
coaches, daemon, inbound, offers, outcomes, bounds); every name is re-exported here.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, PrivateAttr, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from calbridge.config.base import (
    _BASE_DIR,
    Duration,
    Email,
    Secret,
    Section,
    Timezone,
    TlsSecret,
    default_state_dir,
    read_secret,
    readable_file,
    resolve_path,
    resolve_writable,
    writable_base,
)
from calbridge.config.bounds import BoundsSettings
from calbridge.config.coaches import (
    WEEKDAYS,
    BusySettings,
    CalendarSettings,
    Coach,
    DavSettings,
    parse_hours,
)
from calbridge.config.daemon import DaemonSettings
from calbridge.config.inbound import InboundSettings
from calbridge.config.mail import MailSettings, SmsSettings
from calbridge.config.offers import FeedsSettings, OffersSettings
from calbridge.config.outcomes import OutcomesSettings, ServiceSettings
from calbridge.config.policies import PoliciesSettings, PolicyOverride
from calbridge.core.policies import Policy
from calbridge.core.timeutil import parse_duration

__all__ = [
    "DEFAULT_COLORS",
    "WEEKDAYS",
    "_BASE_DIR",
    "BookSettings",
    "BoundsSettings",
    "BusySettings",
    "CalendarSettings",
    "Coach",
    "DaemonSettings",
    "DatabaseSettings",
    "DavSettings",
    "Duration",
    "Email",
    "FeedsSettings",
    "HttpSettings",
    "InboundSettings",
    "MailSettings",
    "OffersSettings",
    "OutcomesSettings",
    "PoliciesSettings",
    "PolicyOverride",
    "ProgramSettings",
    "RemindersSettings",
    "Secret",
    "Section",
    "ServiceSettings",
    "Settings",
    "SmsSettings",
    "SyncSettings",
    "Timezone",
    "TlsSecret",
    "default_state_dir",
    "describe",
    "parse_hours",
    "read_secret",
    "readable_file",
    "resolve_path",
    "resolve_writable",
]


class DatabaseSettings(Section):
    url: str = Field(
        "",
        description="SQLAlchemy URL of the book; empty means SQLite in state_dir.",
    )


class ProgramSettings(Section):
    monthly_limit: int = Field(..., ge=0, description="Sessions a client may have per month.")
    description: str = Field("", description="What the program is, for people.")
    self_booking: bool = Field(
        False, description="Its clients may book sessions themselves on their page."
    )


class RemindersSettings(Section):
    lead_times: list[Duration] = Field(
        default_factory=lambda: ["24h"], description="How long before a session to remind."
    )


class HttpSettings(Section):
    listen: str = Field("127.0.0.1:8470", description="host:port the HTTP server binds.")
    public_url: str = Field(
        "http://127.0.0.1:8470", description="Base URL people reach the server at."
    )
    secret_file: Path | None = Field(
        None, description="File: key that signs links; default generated in state_dir."
    )
    header_timeout_seconds: float = Field(
        10.0,
        gt=0,
        le=300,
        description="A connection whose request headers are not complete this long after"
        " it opened or after its previous response is closed (also ends idle keep-alive).",
    )
    body_timeout_seconds: float = Field(
        30.0, gt=0, le=600, description="A request body not received within this gets 408."
    )
    max_body_bytes: int = Field(
        65536, ge=1024, le=64 * 1024 * 1024, description="A larger request body gets 413."
    )
    max_connections: int = Field(
        1024,
        ge=1,
        le=1_000_000,
        description="Client connections open at once; at the cap, the oldest one still"
        " sending its headers is closed to make room, else the new one is refused."
        " Lowered to fit the open-file limit (LimitNOFILE) less 256.",
    )
    max_connections_per_address: int = Field(
        64,
        ge=0,
        description="Connections one client address (IPv6: one /64) may hold; more are"
        " refused. 0: no cap (behind a reverse proxy every client is its address).",
    )

    @field_validator("secret_file")
    @classmethod
    def _secret_readable(cls, value: Path | None) -> Path | None:
        return readable_file(value)

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        # Port 0 binds a free port (the daemon logs which one).
        if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
            raise ValueError(f"{value!r} is not host:port")
        return value

    @model_validator(mode="after")
    def _caps(self) -> HttpSettings:
        if self.max_connections_per_address > self.max_connections:
            raise ValueError(
                f"max_connections_per_address ({self.max_connections_per_address}) is over"
                f" max_connections ({self.max_connections})"
            )
        return self


class BookSettings(Section):
    slot_minutes: int = Field(30, ge=5, le=240, description="Grid that free slots start on.")
    default_duration_minutes: int = Field(60, ge=5, description="Session length if not given.")
    audit_origin: str = Field("", description="Label recorded as 'from where' in the audit.")


DEFAULT_COLORS = {
    "client": "steelblue",
    "video": "mediumpurple",
    "non-client": "slategray",
    "team": "seagreen",
    "hold": "gold",
    "closure": "firebrick",
}


class SyncSettings(Section):
    colors: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_COLORS),
        description="Calendar colour (CSS3 name) per kind: client, video, non-client, team,"
        " hold, closure.",
    )
    multiget_batch: int = Field(100, ge=1, le=1000, description="Events fetched per request.")
    parallel_writes: int = Field(
        4,
        ge=1,
        le=16,
        description="New events sent to a CalDAV server at once (1: one at a time).",
    )
    busy_days: int = Field(400, ge=7, description="How many days ahead busy calendars are read.")
    guard_deletions: int = Field(
        10,
        ge=0,
        description="A pass that would cancel more sessions than this because their events"
        " vanished from the calendar cancels none: the calendar is held for the admin.",
    )
    bounds: BoundsSettings = Field(
        default_factory=BoundsSettings,
        description="Caps on the work one event or feed may cost ([sync.bounds]).",
    )
    guard_share: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Likewise when more than this share of the calendar's events (and at"
        " least two) vanish in one pass.",
    )

    @field_validator("colors")
    @classmethod
    def _known_kinds(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(DEFAULT_COLORS))
        if unknown:
            raise ValueError(
                f"unknown kind(s) {', '.join(unknown)} (use {', '.join(DEFAULT_COLORS)})"
            )
        return {**DEFAULT_COLORS, **value}


class Settings(BaseSettings):
    """The whole configuration of calbridge."""

    model_config = SettingsConfigDict(
        env_prefix="CALBRIDGE_",
        env_nested_delimiter="__",
        extra="forbid",
        populate_by_name=True,
        nested_model_default_partial_update=True,
    )

    state_dir: Path = Field(
        default_factory=default_state_dir,
        description="Where the SQLite book and other state live ($STATE_DIRECTORY under systemd).",
    )
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    programs: dict[str, ProgramSettings] = Field(
        default_factory=lambda: {"standard": ProgramSettings(monthly_limit=2)},
        description="Programs by name, each with its monthly_limit.",
    )
    reminders: RemindersSettings = Field(default_factory=RemindersSettings)
    mail: MailSettings = Field(default_factory=MailSettings)
    sms: SmsSettings = Field(default_factory=SmsSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    book: BookSettings = Field(default_factory=BookSettings)
    sync: SyncSettings = Field(default_factory=SyncSettings)
    coaches: list[Coach] = Field(default_factory=list, description="The practice's coaches.")
    _coach_at: dict[str, int] = PrivateAttr(default_factory=dict)  # see coach()
    services: dict[str, ServiceSettings] = Field(
        default_factory=dict, description="Services by name, each with its fee and wage."
    )
    outcomes: OutcomesSettings = Field(default_factory=OutcomesSettings)
    offers: OffersSettings = Field(default_factory=OffersSettings)
    feeds: FeedsSettings = Field(default_factory=FeedsSettings)
    service: DaemonSettings = Field(default_factory=DaemonSettings)
    inbound: InboundSettings | None = Field(None, description="The mailbox answers are read from.")
    policies: PoliciesSettings = Field(default_factory=PoliciesSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment overrides the TOML file (passed as init arguments).
        return (env_settings, init_settings)

    @model_validator(mode="after")
    def _paths_and_uniqueness(self) -> Settings:
        self.state_dir = resolve_writable(self.state_dir)
        self.mail.folder = resolve_writable(self.mail.folder)
        self.sms.folder = resolve_writable(self.sms.folder)
        for index, coach in enumerate(self.coaches):
            if coach.calendar:
                coach.calendar._key = f"coaches[{index}].calendar.url"
            if coach.calendar and "://" not in coach.calendar.url:
                coach.calendar._parents_within = writable_base(Path(coach.calendar.url))
                coach.calendar.url = str(resolve_writable(Path(coach.calendar.url)))
        return self

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{self.state_dir / 'calbridge.db'}"

    def event_colors(self) -> dict[str, str]:
        """The colour of each kind of event, wherever an event is built (the calendar
        copy and the mail alike): ``[sync.colors]`` and the outcomes' "done" colour."""
        return {**self.sync.colors, "done": self.outcomes.done_color}

    def coach(self, coach_id: str) -> Coach:
        """The coach ``coach_id``, found through an index of positions (the daemon asks
        for every calendar it syncs; a scan of 10,000 coaches each time was a sixth of an
        idle cycle). The index is checked against the list and rebuilt when it differs."""
        from calbridge.errors import NotFound

        for attempt in (0, 1):
            at = self._coach_at.get(coach_id)
            if at is not None and at < len(self.coaches) and self.coaches[at].id == coach_id:
                return self.coaches[at]
            if attempt == 0:
                self._coach_at = {}
                for index, coach in enumerate(self.coaches):
                    self._coach_at.setdefault(coach.id, index)
        known = ", ".join(c.id for c in self.coaches) or "none configured"
        raise NotFound(f"unknown coach {coach_id!r} (known: {known})")

    def program(self, name: str) -> ProgramSettings:
        from calbridge.errors import NotFound

        try:
            return self.programs[name]
        except KeyError:
            known = ", ".join(sorted(self.programs)) or "none configured"
            raise NotFound(f"unknown program {name!r} (known: {known})") from None

    def policy(self, service: str | None) -> Policy:
        """The booking policy of a session of ``service`` (none: the default service)."""
        name = service or self.outcomes.default_service
        found = self.services.get(name) if name else None
        return self.policies.effective(found.policies if found else None, name)

    def buffered_anywhere(self) -> bool:
        """Whether any policy ([policies] or a service's) keeps a buffer around its
        sessions: only then can a session without rules of its own break one."""
        every = [self.policies.effective(None, None), *map(self.policy, self.services)]
        return any(p.buffer_before_minutes or p.buffer_after_minutes for p in every)

    def late_notice(self, service: str | None) -> timedelta:
        """Cancelled with less notice than this: a late cancellation (the service's
        ``cancel_deadline_hours``)."""
        return timedelta(hours=self.policy(service).cancel_deadline_hours)

    def lead_times(self) -> list[timedelta]:
        return [parse_duration(v) for v in self.reminders.lead_times]


def describe(model: type[BaseModel], prefix: str = "") -> dict[str, Any]:
    """Every key path of the schema with its help text (used by tests and docs)."""
    out: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        key = field.alias or name
        path = f"{prefix}{key}"
        out[path] = field.description or ""
        inner = _model_of(field.annotation)
        if inner is not None:
            out.update(describe(inner, path + "."))
    return out


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_of(arg)
        if found is not None:
            return found
    return None
