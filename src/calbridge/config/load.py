"""Reading the TOML file (plus the environment) into ``Settings``, reporting every problem."""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from calbridge.config import schema
from calbridge.config.cross import cross_problems
from calbridge.config.schema import Settings
from calbridge.errors import ConfigError

DEFAULT_PATHS = (Path("/etc/calbridge/config.toml"),)


def find_config(explicit: str | None) -> Path:
    """--config, then $CALBRIDGE_CONFIG, then systemd's $CONFIGURATION_DIRECTORY, then /etc."""
    if explicit:
        return Path(explicit)
    if os.environ.get("CALBRIDGE_CONFIG"):
        return Path(os.environ["CALBRIDGE_CONFIG"])
    candidates = list(DEFAULT_PATHS)
    if os.environ.get("CONFIGURATION_DIRECTORY"):
        base = os.environ["CONFIGURATION_DIRECTORY"].split(":")[0]
        candidates.insert(0, Path(base) / "config.toml")
    for path in candidates:
        if path.exists():
            return path
    raise ConfigError([("", "no configuration file: pass --config PATH or set CALBRIDGE_CONFIG")])


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError([("", f"{path} does not exist")]) from None
    except OSError as exc:
        raise ConfigError([("", f"cannot read {path}: {exc.strerror}")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([("", f"{path} is not valid TOML: {exc}")], str(path)) from None


def load_config(explicit: str | Path | None = None) -> Settings:
    path = find_config(str(explicit) if explicit else None)
    data = read_toml(path)
    return build(data, path.resolve().parent, str(path))


def build(data: dict[str, Any], base_dir: Path, source: str = "") -> Settings:
    schema._BASE_DIR.append(base_dir)
    try:
        settings = Settings(**data)
    except ValidationError as exc:
        found = problems(exc)
        raise ConfigError(found + _new(cross_problems(data), found), source) from None
    finally:
        schema._BASE_DIR.pop()
    # The environment may override the file: check what was actually built.
    found = cross_problems(_cross_view(settings))
    if found:
        raise ConfigError(found, source)
    return settings


def _cross_view(settings: Settings) -> dict[str, Any]:
    """The few keys the cross checks read, from the built settings (cheaper than a dump)."""
    coaches = [
        {"id": c.id, "calendar": {"url": c.calendar.url} if c.calendar else None}
        for c in settings.coaches
    ]
    return {
        "coaches": coaches,
        "services": dict(settings.services),
        "outcomes": {"default_service": settings.outcomes.default_service},
    }


def _new(extra: list[tuple[str, str]], found: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [p for p in extra if p not in found]


def problems(exc: ValidationError) -> list[tuple[str, str]]:
    """Every error as (key path, message), unknown keys with a suggestion."""
    found = []
    for error in exc.errors():
        loc = error["loc"]
        key = key_path(loc)
        if error["type"] == "extra_forbidden":
            message = "unknown key" + _suggest(loc)
        elif error["type"] == "missing":
            message = "required key is missing"
        else:
            message = str(error["msg"]).removeprefix("Value error, ")
            message += _shown(key, error.get("input"), message)
        found.append((key, message))
    return found


def _shown(key: str, value: Any, message: str) -> str:
    """The offending value, unless it is a secret, a table, or already in the message."""
    if any(word in key for word in ("password", "token", "secret")):
        return ""
    if isinstance(value, (dict, list)) or value is None:
        return ""
    text = repr(value)
    if text in message or len(text) > 80:
        return ""
    return f" (got {text})"


def key_path(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _suggest(loc: Sequence[int | str]) -> str:
    model: type[BaseModel] | None = Settings
    for part in loc[:-1]:
        if model is None or isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        model = schema._model_of(field.annotation) if field else None
    if model is None:
        return ""
    names = [f.alias or n for n, f in model.model_fields.items()]
    close = difflib.get_close_matches(str(loc[-1]), names, n=1)
    return f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(names)})"
