"""Fixtures for the daemon tests: a Radicale for the session, daemon configurations."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cli_helpers import write_config
from conftest import WEEKDAYS_9_TO_5
from servers.caldav_servers import SERVERS, CalDAVServer


@pytest.fixture(scope="session")
def radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CalDAVServer]:
    with SERVERS["radicale"](tmp_path_factory.mktemp("service-radicale")) as server:
        yield server


def coach(cid: str, calendar: dict[str, Any] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": cid,
        "name": f"Coach {cid}",
        "email": f"{cid}@practice.example",
        "timezone": "Europe/London",
        "working_hours": WEEKDAYS_9_TO_5,
    }
    if calendar is not None:
        data["calendar"] = calendar
    return data


def daemon_config(
    tmp_path: Path, db_url: str, coaches: list[dict[str, Any]], **service: Any
) -> dict[str, Any]:
    return {
        "state_dir": str(tmp_path / "state"),
        "database": {"url": db_url},
        "programs": {"standard": {"monthly_limit": 2}, "bulk": {"monthly_limit": 500}},
        "mail": {"transport": "folder", "folder": str(tmp_path / "mail")},
        "http": {"listen": "127.0.0.1:0"},
        "service": {
            "interval": 1.0,
            "jitter": 0.2,
            "poll": 0.2,
            "lease": 5,
            "grace": 30,
            "backoff": 1,
            **service,
        },
        "coaches": coaches,
    }


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    def make(data: dict[str, Any], name: str = "config.toml") -> Path:
        return write_config(tmp_path / name, data)

    return make
