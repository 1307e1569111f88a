"""Fixtures of the offer tests: a real Radicale, a book syncing to it, and the HTTP
server (aiohttp, the real app composer) serving offer links and feeds on a free port."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from calbridge.book import Book, parties
from calbridge.web.feeds import feed_routes
from calbridge.web.offers import offer_routes
from servers.caldav_servers import CalDAVServer
from servers.threaded import serving_app
from sync.conftest import radicale  # noqa: F401  (fixture re-used here)
from sync.e2e_helpers import Target, caldav_target


@dataclass
class Served:
    base: str  # http://127.0.0.1:PORT


@pytest.fixture
def target(radicale: CalDAVServer) -> Iterator[Target]:  # noqa: F811
    """A fresh calendar on the shared Radicale, and the coach's app's view of it."""
    with caldav_target(radicale) as target:
        yield target


def offers_book(make_book: Callable[..., Book], tmp_path: Path, **changes: Any) -> Book:
    """A book whose state (and generated link secret) lives in the test's folder."""
    b = make_book(
        state_dir=str(tmp_path / "state"), mail={"from": "sessions@practice.example"}, **changes
    )
    parties.add_client(b, "Ana Lopez", "ana@example.org", "standard", "ana")
    parties.add_client(b, "Ben Ng", "ben@example.org", "standard", "ben")
    return b


@pytest.fixture
def book(make_book: Callable[..., Book], tmp_path: Path) -> Book:
    return offers_book(make_book, tmp_path)


@pytest.fixture
def synced_book(make_book: Callable[..., Book], tmp_path: Path, target: Target) -> Book:
    """A book whose coach maia syncs to ``target`` (Radicale)."""
    from conftest import base_config

    coaches = base_config("")["coaches"]
    coaches[0]["calendar"] = target.calendar
    return offers_book(make_book, tmp_path, coaches=coaches)


@pytest.fixture
def served(book: Book) -> Iterator[Served]:
    """The HTTP server on port 0 in a thread of its own; links point at it."""
    installers = [offer_routes(book, book.settings), feed_routes(book, book.settings)]
    with serving_app(installers) as base:
        book.settings.http.public_url = base
        yield Served(base)
