"""Checks across keys, run on the raw data so they report even when single keys are wrong."""

from __future__ import annotations

from typing import Any


def _table(data: Any, key: str) -> dict[str, Any]:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else {}


def _coaches(data: dict[str, Any]) -> list[dict[str, Any]]:
    value = data.get("coaches")
    return [c for c in value if isinstance(c, dict)] if isinstance(value, list) else []


def cross_problems(data: dict[str, Any]) -> list[tuple[str, str]]:
    """Every (key path, message) that only shows when two keys are read together."""
    found: list[tuple[str, str]] = []
    coaches = _coaches(data)
    seen: dict[str, int] = {}
    for index, coach in enumerate(coaches):
        cid = coach.get("id")
        if not isinstance(cid, str):
            continue
        if cid in seen:
            found.append(
                (f"coaches[{index}].id", f"duplicate id {cid!r} (also coaches[{seen[cid]}])")
            )
        else:
            seen[cid] = index
    urls: dict[str, str] = {}
    for index, coach in enumerate(coaches):
        url = _table(coach, "calendar").get("url")
        if not isinstance(url, str) or not url:
            continue
        here = f"coaches[{index}].calendar.url"
        if url in urls:
            found.append((here, f"{url!r} is already {urls[url]} (a calendar has one coach)"))
        else:
            urls[url] = here
    services = _table(data, "services")
    default = _table(data, "outcomes").get("default_service")
    if isinstance(default, str) and default not in services:
        known = ", ".join(sorted(services)) or "none: add a [services.NAME] table"
        found.append(("outcomes.default_service", f"unknown service {default!r} (known: {known})"))
    return found
