"""Folders the configuration names: can this user make and write them? (check-config)"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from calbridge.config.schema import Settings


def folder_problem(path: Path) -> str | None:
    """Why ``path`` cannot be a writable folder, or None when it is or can be made."""
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            return None
        probe = probe.parent
    if not probe.is_dir():
        return f"{probe} is a file, not a folder" if probe != path else f"{path} is a file"
    verb = "write" if probe == path else "create folders in"
    if not os.access(probe, os.W_OK | os.X_OK):
        return f"this user cannot {verb} {probe}: permission denied"
    try:  # access() says yes to root everywhere: try for real, and leave nothing behind
        Path(tempfile.mkdtemp(prefix=".calbridge-check-", dir=probe)).rmdir()
    except OSError as exc:
        return f"this user cannot {verb} {probe}: {exc.strerror or exc}"
    return None


def written_folders(settings: Settings) -> list[tuple[str, Path]]:
    """Every folder calbridge writes with this configuration, as (key, resolved path)."""
    keys: list[tuple[str, Path]] = []
    if not settings.database.url:
        keys.append(("state_dir", settings.state_dir))
    if settings.mail.transport == "folder":
        keys.append(("mail.folder", settings.mail.folder))
    if settings.sms.transport == "folder":
        keys.append(("sms.folder", settings.sms.folder))
    for index, coach in enumerate(settings.coaches):
        if coach.calendar and "://" not in coach.calendar.url:
            keys.append((f"coaches[{index}].calendar.url", Path(coach.calendar.url)))
    return keys


def folder_problems(settings: Settings) -> list[tuple[str, str]]:
    """Every folder key whose folder calbridge could not write, as (key, message)."""
    found = []
    for key, path in written_folders(settings):
        problem = folder_problem(path) or _mistyped(settings, key, path)
        if problem:
            found.append((key, f"{problem} (got {str(path)!r})"))
    return found


def _mistyped(settings: Settings, key: str, path: Path) -> str | None:
    """A folder calendar given absolute is created only when its parent exists."""
    calendars = {f"coaches[{i}].calendar.url": c.calendar for i, c in enumerate(settings.coaches)}
    calendar = calendars.get(key)
    if calendar is None or path.is_dir() or path.parent.is_dir():
        return None
    within = calendar._parents_within
    if within is not None and path.is_relative_to(within):
        return None
    return f"neither {path} nor its parent {path.parent} exists (mistyped?)"


def outside_state_directory(settings: Settings) -> list[str]:
    """Under systemd ($STATE_DIRECTORY set) an explicit absolute folder wins, but the unit's
    ProtectSystem=strict leaves it read-only unless ReadWritePaths= lists it: say so."""
    systemd = os.environ.get("STATE_DIRECTORY")
    if not systemd:
        return []
    roots = [Path(p).resolve() for p in systemd.split(":") if p]
    found = []
    for key, path in written_folders(settings):
        if not any(path.resolve().is_relative_to(root) for root in roots):
            found.append(
                f"{key} = {str(path)!r} is outside $STATE_DIRECTORY ({systemd}): the unit's"
                " ProtectSystem=strict makes it read-only unless ReadWritePaths= lists it"
                " (or make it relative, so it lands in $STATE_DIRECTORY)"
            )
    return found


def warnings(settings: Settings) -> list[str]:
    """Valid but probably not meant: shown by check-config, never fatal."""
    notes = []
    for c in settings.coaches:
        if c.calendar is None:
            notes.append(
                f"coach {c.id!r} has no [coaches.calendar]: their sessions stay in the book only"
            )
            continue
        signs = (
            ("oauth_refresh_token_file", "google", c.calendar.oauth_refresh_token_file),
            ("graph_token_file", "graph", c.calendar.graph_token_file),
        )
        notes.extend(
            f"coach {c.id!r}: {key} {path} does not exist yet; run"
            f" `calbridge auth {provider} --coach {c.id}`"
            for key, provider, path in signs
            if path is not None and not Path(path).exists()
        )
    return notes + outside_state_directory(settings)
