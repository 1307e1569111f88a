"""The key that signs offer links and feed URLs: from ``http.secret_file``, or generated
once into ``state_dir`` (mode 0600) and read from there ever after."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from calbridge.config.schema import Settings
from calbridge.errors import ConfigError

SECRET_NAME = "http-secret"
_MIN_BYTES = 16


def load_secret(settings: Settings) -> bytes:
    path = settings.http.secret_file
    if path is not None:
        return _checked(path.read_bytes().strip(), f"http.secret_file ({path})")
    return _state_secret(settings.state_dir / SECRET_NAME)


def _state_secret(path: Path) -> bytes:
    """Written whole under a temporary name, then linked into place: a second process
    either links first (and we read its key) or finds the finished file."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as out:
                out.write(secrets.token_urlsafe(48) + "\n")
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    return _checked(path.read_bytes().strip(), str(path))


def _checked(value: bytes, where: str) -> bytes:
    if len(value) < _MIN_BYTES:
        raise ConfigError(
            [("http.secret_file", f"{where}: the signing secret needs {_MIN_BYTES}+ bytes")]
        )
    return value
