"""Fixtures of the client page tests: a book with a priced service (late cancellations
have a fee), ana's page link, and the HTTP server (the real app composer) on a free port."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from calbridge.book import Book, parties
from calbridge.config.secret import load_secret
from calbridge.core.tokens import sign_client
from calbridge.web.client_page import client_routes
from servers.threaded import serving_app

SERVICES = {"coaching": {"fee": "60.00", "wage": "30.00"}}


@pytest.fixture
def book(make_book: Callable[..., Book], tmp_path: Path) -> Book:
    b = make_book(
        state_dir=str(tmp_path / "state"),
        mail={"from": "sessions@practice.example"},
        services=SERVICES,
        outcomes={"default_service": "coaching"},
    )
    parties.add_client(b, "Ana Lopez", "ana@example.org", "standard", "ana")
    parties.add_client(b, "Ben Ng", "ben@example.org", "standard", "ben")
    return b


@pytest.fixture
def secret(book: Book) -> bytes:
    return load_secret(book.settings)


@pytest.fixture
def token(secret: bytes) -> str:
    """ana's first link (version 1)."""
    return sign_client(secret, "ana", 1)


@pytest.fixture
def base(book: Book) -> Iterator[str]:
    """The HTTP server; ``book.settings.http.public_url`` points at it."""
    with serving_app([client_routes(book, book.settings)]) as url:
        book.settings.http.public_url = url
        yield url


def self_booking_book(make_book: Callable[..., Book], tmp_path: Path, **changes: object) -> Book:
    """A book whose standard program allows self-booking, with Ana, who has had a session
    with Maia (so the page lets her book one)."""
    from book_helpers import plan_one

    b = make_book(
        state_dir=str(tmp_path / "state"),
        mail={"from": "sessions@practice.example"},
        programs={"standard": {"monthly_limit": 2, "self_booking": True}},
        **changes,
    )
    parties.add_client(b, "Ana Lopez", "ana@example.org", "standard", "ana")
    plan_one(b, "2026-11-23T10:00")
    return b
