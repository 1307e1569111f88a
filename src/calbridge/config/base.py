"""Building blocks of the configuration schema: sections, secrets, checked value types and
how relative paths resolve (against the config's folder, or $STATE_DIRECTORY)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated
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

from calbridge.core.timeutil import parse_duration


def check_timezone(name: str) -> str:
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
Timezone = Annotated[str, AfterValidator(check_timezone)]
Duration = Annotated[str, AfterValidator(_check_duration)]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)


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


def credential_path(value: Path) -> Path:
    """``%d/NAME`` is the systemd credential NAME: ``$CREDENTIALS_DIRECTORY/NAME`` (the %d
    specifier of unit files); any other path is read as written."""
    text = str(value)
    if text != "%d" and not text.startswith("%d/"):
        return value
    folder = os.environ.get("CREDENTIALS_DIRECTORY")
    if not folder:
        raise ValueError(
            f"{text!r} names a systemd credential, but $CREDENTIALS_DIRECTORY is not set"
            " (systemd sets it for a unit with LoadCredential=; outside systemd give a path)"
        )
    return Path(folder) / text[3:]


def readable_file(value: Path | None) -> Path | None:
    """A secret file, resolved against the config's folder (or the credentials folder for
    ``%d/NAME``), must be readable now."""
    if value is None:
        return None
    path = resolve_path(credential_path(value))
    if not os.access(path, os.R_OK):
        raise ValueError(f"cannot read {path}")
    return path


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


_BASE_DIR: list[Path] = [Path.cwd()]


def resolve_path(path: Path) -> Path:
    """Relative paths in the config are relative to the config file's folder."""
    path = path.expanduser()
    return path if path.is_absolute() else _BASE_DIR[-1] / path


def writable_base(path: Path) -> Path | None:
    """The folder a relative written path resolves against ($STATE_DIRECTORY under systemd,
    else the config's folder); None for an absolute path."""
    if path.expanduser().is_absolute():
        return None
    systemd = os.environ.get("STATE_DIRECTORY")
    return Path(systemd.split(":")[0]) if systemd else _BASE_DIR[-1]


def resolve_writable(path: Path) -> Path:
    """Folders calbridge writes: relative ones go under $STATE_DIRECTORY when systemd runs
    it (the config's folder, /etc/calbridge, is read-only there), else by the config."""
    base = writable_base(path)
    return resolve_path(path) if base is None else base / path


def default_state_dir() -> Path:
    systemd = os.environ.get("STATE_DIRECTORY")
    if systemd:
        return Path(systemd.split(":")[0])
    return Path(os.environ.get("XDG_STATE_HOME", "~/.local/state")).expanduser() / "calbridge"
