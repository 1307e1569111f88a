"""A book whose mail goes to a real aiosmtpd server on loopback."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from calbridge.book import Book, parties

from .smtp_helpers import Recorder, smtp_config, smtp_server


def add_people(book: Book) -> None:
    parties.add_client(book, "Ana Lopez", "ana@example.org", "standard", "ana")
    parties.add_client(book, "Ben Ng", "ben@example.org", "standard", "ben")
    parties.add_third_party(book, "Dr Third", "third@example.org", "doc")


@pytest.fixture
def smtp() -> Iterator[tuple[Recorder, int]]:
    with smtp_server() as found:
        yield found


@pytest.fixture
def mail_book(make_book: Callable[..., Book], smtp: tuple[Recorder, int]) -> Book:
    book = make_book(mail=smtp_config(smtp[1]), state_dir="state")
    add_people(book)
    return book


@pytest.fixture
def recorder(smtp: tuple[Recorder, int]) -> Recorder:
    return smtp[0]
