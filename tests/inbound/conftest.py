"""A real Dovecot for the whole run, and per test a book reading its own folders there."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from calbridge.book import Book, parties
from mail.smtp_helpers import Recorder, smtp_config, smtp_server
from servers.dovecot import Dovecot, dovecot


@pytest.fixture(scope="session")
def imap_server() -> Iterator[Dovecot]:
    # Not pytest's tmp_path: Dovecot's unprivileged processes must reach every parent.
    root = Path(tempfile.mkdtemp(prefix="calbridge-dovecot-"))
    try:
        with dovecot(root) as server:
            yield server
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def folders() -> dict[str, str]:
    tag = uuid.uuid4().hex[:10]
    return {
        "folder": f"in-{tag}",
        "applied_folder": f"applied-{tag}",
        "rejected_folder": f"rejected-{tag}",
    }


def inbound_config(server: Dovecot, folders: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {
        "host": server.host,
        "port": server.port,
        "tls": False,
        "username": server.user,
        "password": server.password,
        "idle": True,
        "poll_seconds": 0.2,
        "timeout": 10.0,
        **folders,
        **extra,
    }


@pytest.fixture
def smtp() -> Iterator[tuple[Recorder, int]]:
    with smtp_server() as found:
        yield found


@pytest.fixture
def recorder(smtp: tuple[Recorder, int]) -> Recorder:
    return smtp[0]


@pytest.fixture
def make_inbound_book(
    make_book: Callable[..., Book],
    smtp: tuple[Recorder, int],
    imap_server: Dovecot,
    folders: dict[str, str],
) -> Callable[..., Book]:
    """A book mailing through aiosmtpd and reading this test's folders on Dovecot, with
    the clients ana, ben and dee and the third party doc; ``changes`` go to the config."""

    def make(**changes: Any) -> Book:
        changes.setdefault("inbound", inbound_config(imap_server, folders))
        book = make_book(mail=smtp_config(smtp[1]), state_dir="state", **changes)
        add_people(book)
        return book

    return make


@pytest.fixture
def inbound_book(make_inbound_book: Callable[..., Book]) -> Book:
    return make_inbound_book()


def add_people(book: Book) -> None:
    parties.add_client(book, "Ana Lopez", "ana@example.org", "standard", "ana")
    parties.add_client(book, "Ben Ng", "ben@example.org", "standard", "ben")
    parties.add_client(book, "Dee Roy", "dee@example.org", "intensive", "dee")
    parties.add_third_party(book, "Dr Third", "third@example.org", "doc")
