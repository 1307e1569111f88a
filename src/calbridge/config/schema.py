"""The configuration schema: the only place that knows keys, types, defaults and help.

Every field's ``description`` is its help text; ``config.example.toml`` is tested to
mention every key defined here.
"""

from __future__ import annotations

import os
import re
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from calbridge.config.bounds import BoundsSettings
from calbridge.config.offers import FeedsSettings, OffersSettings
from calbridge.config.outcomes import OutcomesSettings, ServiceSettings
from calbridge.core.timeutil import parse_duration

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def _check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown timezone {name!r} (use an IANA name like Europe/London)"
        ) from None
    return name


def _check_email(value: str) -> str:
    if not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+", value):
        raise ValueError(f"{value!r} is not an email address")
    return value


def _check_duration(value: str) -> str:
    parse_duration(value)
    return value


Email = Annotated[str, AfterValidator(_check_email)]
Timezone = Annotated[str, AfterValidator(_check_timezone)]
Duration = Annotated[str, AfterValidator(_check_duration)]


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


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def read_secret(value: SecretStr | None, path: Path | None) -> str | None:
    if path is not None:
        return path.read_text(encoding="utf-8").strip()
    return value.get_secret_value() if value else None


class Secret(Section):
    """Mixin for sections with a password: ``password`` (or env) or ``password_file``."""

    password: SecretStr | None = Field(None, description="Password; prefer password_file.")
    password_file: Path | None = Field(None, description="File holding the password.")

    def secret(self) -> str | None:
        return read_secret(self.password, self.password_file)

    @field_validator("password_file")
    @classmethod
    def _readable(cls, value: Path | None) -> Path | None:
        return readable_file(value)


def readable_file(value: Path | None) -> Path | None:
    """A secret file, resolved against the config's folder, must be readable now."""
    if value is None:
        return None
    path = resolve_path(value)
    if not os.access(path, os.R_OK):
        raise ValueError(f"cannot read {path}")
    return path


class DatabaseSettings(Section):
    url: str = Field(
        "",
        description="SQLAlchemy URL of the book; empty means SQLite in state_dir.",
    )


class ProgramSettings(Section):
    monthly_limit: int = Field(..., ge=0, description="Sessions a client may have per month.")
    description: str = Field("", description="What the program is, for people.")


class RemindersSettings(Section):
    lead_times: list[Duration] = Field(
        default_factory=lambda: ["24h"], description="How long before a session to remind."
    )


class TlsSecret(Secret):
    """Mixin for a server reached with implicit TLS or STARTTLS (not both) and an
    optional private CA in ``ca_file`` (SMTP, IMAP)."""

    tls: bool
    starttls: bool
    ca_file: Path | None

    @field_validator("ca_file")
    @classmethod
    def _readable_ca(cls, value: Path | None) -> Path | None:
        return readable_file(value)

    @model_validator(mode="after")
    def _one_tls_mode(self) -> TlsSecret:
        if self.tls and self.starttls:
            raise ValueError("tls and starttls are exclusive: set one of them to false")
        return self


class MailSettings(TlsSecret):
    transport: Literal["smtp", "folder"] = Field("folder", description="smtp or folder.")
    from_: Email = Field(
        "sessions@localhost", alias="from", description="The practice's sending address."
    )
    folder: Path = Field(Path("mail"), description="Where the folder transport writes .eml.")
    host: str = Field("localhost", description="SMTP server host.")
    port: int = Field(587, ge=1, le=65535, description="SMTP server port.")
    starttls: bool = Field(True, description="Upgrade the connection with STARTTLS.")
    tls: bool = Field(False, description="Connect with implicit TLS (port 465).")
    username: str | None = Field(None, description="SMTP login name.")
    timeout: float = Field(30.0, gt=0, description="Seconds before an SMTP call gives up.")
    ca_file: Path | None = Field(
        None,
        description="CA bundle (PEM) that signs the SMTP server's certificate; default:"
        " the system's.",
    )
    give_up_after_hours: float = Field(
        48.0, gt=0, description="Hours a message is retried (backoff) before it is given up."
    )
    admin: Email | None = Field(
        None,
        description="The practice's admin address, told when a calendar is held by the"
        " mass-deletion guard (default: the `from` address).",
    )


class SmsSettings(Section):
    transport: Literal["folder", "twilio", "webhook"] = Field(
        "folder",
        description="folder (one file per text), twilio (Twilio-compatible REST) or"
        " webhook (a signed JSON POST to `url`).",
    )
    from_: str = Field(
        "", alias="from", description="The number (E.164) or sender name texts come from."
    )
    folder: Path = Field(Path("sms"), description="Where the folder transport writes texts.")
    url: str = Field(
        "https://api.twilio.com",
        description="twilio: the API's base URL; webhook: the URL each text is POSTed to.",
    )
    account_sid: str = Field("", description="twilio: the account SID (basic-auth user).")
    token: SecretStr | None = Field(
        None, description="twilio: auth token; webhook: signing key. Prefer token_file."
    )
    token_file: Path | None = Field(None, description="File holding the token.")
    region: str = Field("GB", description="Country assumed for numbers given without +.")
    timeout: float = Field(30.0, gt=0, description="Seconds before a provider call gives up.")
    give_up_after_hours: float = Field(
        48.0, gt=0, description="Hours a text is retried (backoff) before it is given up."
    )
    status_callback: bool = Field(
        True, description="twilio: ask for delivery status callbacks to calbridge's server."
    )

    def secret(self) -> str:
        return read_secret(self.token, self.token_file) or ""

    @field_validator("token_file")
    @classmethod
    def _readable_token(cls, value: Path | None) -> Path | None:
        return readable_file(value)

    @model_validator(mode="after")
    def _provider_complete(self) -> SmsSettings:
        if self.transport == "twilio" and not (self.account_sid and self.from_):
            raise ValueError("the twilio transport needs account_sid and from")
        if self.transport != "folder" and not (self.token or self.token_file):
            raise ValueError(f"the {self.transport} transport needs token or token_file")
        return self


class HttpSettings(Section):
    listen: str = Field("127.0.0.1:8470", description="host:port the HTTP server binds.")
    public_url: str = Field(
        "http://127.0.0.1:8470", description="Base URL people reach the server at."
    )
    secret_file: Path | None = Field(
        None, description="File: key that signs links; default generated in state_dir."
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
        from calbridge.sms.phone import e164

        if not value.strip().startswith("+"):
            raise ValueError(f"{value!r}: give the number with its country code, like +44...")
        return e164(value)

    @model_validator(mode="after")
    def _sms_needs_phone(self) -> Coach:
        if self.notify != "email" and self.phone is None:
            raise ValueError(f"notify = {self.notify!r} needs the coach's phone")
        return self

    def hours(self) -> dict[int, list[tuple[time, time]]]:
        """Working hours by ISO weekday index (0 = Monday)."""
        return {WEEKDAYS.index(day): parse_hours(spec) for day, spec in self.working_hours.items()}

    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


_BASE_DIR: list[Path] = [Path.cwd()]


def resolve_path(path: Path) -> Path:
    """Relative paths in the config are relative to the config file's folder."""
    path = path.expanduser()
    return path if path.is_absolute() else _BASE_DIR[-1] / path


def resolve_writable(path: Path) -> Path:
    """Folders calbridge writes: relative ones go under $STATE_DIRECTORY when systemd runs
    it (the config's folder, /etc/calbridge, is read-only there), else by the config."""
    systemd = os.environ.get("STATE_DIRECTORY")
    path = path.expanduser()
    if systemd and not path.is_absolute():
        return Path(systemd.split(":")[0]) / path
    return resolve_path(path)


def default_state_dir() -> Path:
    systemd = os.environ.get("STATE_DIRECTORY")
    if systemd:
        return Path(systemd.split(":")[0])
    return Path(os.environ.get("XDG_STATE_HOME", "~/.local/state")).expanduser() / "calbridge"


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
    services: dict[str, ServiceSettings] = Field(
        default_factory=dict, description="Services by name, each with its fee and wage."
    )
    outcomes: OutcomesSettings = Field(default_factory=OutcomesSettings)
    offers: OffersSettings = Field(default_factory=OffersSettings)
    feeds: FeedsSettings = Field(default_factory=FeedsSettings)
    service: DaemonSettings = Field(default_factory=lambda: _service_settings())
    inbound: InboundSettings | None = Field(None, description="The mailbox answers are read from.")
    policies: PoliciesSettings = Field(default_factory=lambda: PoliciesSettings())

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
        for coach in self.coaches:
            if coach.calendar and "://" not in coach.calendar.url:
                coach.calendar.url = str(resolve_writable(Path(coach.calendar.url)))
        return self

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{self.state_dir / 'calbridge.db'}"

    def coach(self, coach_id: str) -> Coach:
        from calbridge.errors import NotFound

        for coach in self.coaches:
            if coach.id == coach_id:
                return coach
        known = ", ".join(c.id for c in self.coaches) or "none configured"
        raise NotFound(f"unknown coach {coach_id!r} (known: {known})")

    def program(self, name: str) -> ProgramSettings:
        from calbridge.errors import NotFound

        try:
            return self.programs[name]
        except KeyError:
            known = ", ".join(sorted(self.programs)) or "none configured"
            raise NotFound(f"unknown program {name!r} (known: {known})") from None

    def lead_times(self) -> list[timedelta]:
        return [parse_duration(v) for v in self.reminders.lead_times]


def _service_settings() -> DaemonSettings:
    return DaemonSettings()


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


from calbridge.config.daemon import ServiceSettings as DaemonSettings  # noqa: E402  (it imports Section from here)
from calbridge.config.inbound import InboundSettings, PoliciesSettings  # noqa: E402

Settings.model_rebuild()
