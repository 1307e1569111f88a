"""Shared fixtures: a book on SQLite and on PostgreSQL, a settable clock, configs."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from browser_helpers import browser  # noqa: F401  (the fixture every browser test uses)
from calbridge.book import Book
from calbridge.config.load import build
from calbridge.config.schema import Settings
from calbridge.service import wiring
from pg_schema import scratch_schema

wiring.install()  # the mail consumer and the text channel, as the command line installs them

#: Every object calbridge stores, publishes or mails is validated at the end of the run.
pytest_plugins = ("icsguard.plugin",)

PG_ENV = "CALBRIDGE_TEST_POSTGRES_URL"
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)  # a Saturday

WEEKDAYS_9_TO_5 = dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), "09:00-17:00")


def base_config(db_url: str) -> dict[str, Any]:
    return {
        "database": {"url": db_url},
        "programs": {
            "standard": {"monthly_limit": 2},
            "single": {"monthly_limit": 1},
            "intensive": {"monthly_limit": 4},
        },
        "coaches": [
            {
                "id": "maia",
                "name": "Maia Jones",
                "email": "maia@practice.example",
                "timezone": "Europe/London",
                "working_hours": WEEKDAYS_9_TO_5,
            },
            {
                "id": "sam",
                "name": "Sam Okafor",
                "email": "sam@practice.example",
                "timezone": "America/New_York",
                "working_hours": {"mon": "10:00-18:00", "wed": "10:00-18:00"},
            },
        ],
    }


def postgres_url() -> str | None:
    url = os.environ.get(PG_ENV)
    if not url:
        if os.environ.get("CI"):
            pytest.fail(f"{PG_ENV} is not set in CI: the PostgreSQL tests must not skip")
        return None
    return url


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a schema of its own on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'book.db'}"
        return
    base = postgres_url()
    if base is None:
        pytest.skip(f"set {PG_ENV} to run the PostgreSQL variant")
    with scratch_schema(base, "t") as url:
        yield url


class Clock:
    """A clock tests move by hand."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_settings(db_url: str, tmp_path: Path) -> Callable[..., Settings]:
    def make(**changes: Any) -> Settings:
        data = base_config(db_url)
        data.update(changes)
        return build(data, tmp_path)

    return make


@pytest.fixture
def make_book(
    make_settings: Callable[..., Settings], clock: Clock
) -> Iterator[Callable[..., Book]]:
    opened: list[Book] = []

    def make(**changes: Any) -> Book:
        book = Book.open(make_settings(**changes), origin="test")
        book.clock = clock
        opened.append(book)
        return book

    yield make
    for book in opened:
        book.engine.dispose()


@pytest.fixture
def book(make_book: Callable[..., Book]) -> Book:
    from calbridge.book import parties

    b = make_book()
    parties.add_client(b, "Ana Lopez", "ana@example.org", "standard", "ana")
    parties.add_client(b, "Ben Ng", "ben@example.org", "standard", "ben")
    parties.add_client(b, "Cy Park", "cy@example.org", "single", "cy")
    parties.add_client(b, "Dee Roy", "dee@example.org", "intensive", "dee")
    parties.add_third_party(b, "Dr Third", "third@example.org", "doc")
    return b
