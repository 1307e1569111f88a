"""Folder names of an inbound book and a look at what its mailbox holds."""

from __future__ import annotations

from book_helpers import plan_one
from calbridge.book import Book
from calbridge.core.model import Session
from mail.smtp_helpers import Recorder, send
from servers.dovecot import Dovecot


def folders(book: Book) -> tuple[str, str, str]:
    inbound = book.settings.inbound
    assert inbound is not None
    return inbound.folder, inbound.applied_folder, inbound.rejected_folder


def filed(server: Dovecot, book: Book) -> tuple[int, int, int]:
    """How many messages are (still in the folder, applied, rejected)."""
    inbox, applied, rejected = folders(book)
    return tuple(len(server.messages(f)) for f in (inbox, applied, rejected))  # type: ignore[return-value]


def invited(book: Book, recorder: Recorder, clients: tuple[str, ...] = ("ana",)) -> Session:
    """A session on Tue 2026-12-01 10:00 whose invitations are sent and forgotten, so the
    recorder holds only what the answer causes."""
    session = plan_one(book, "2026-12-01T10:00", clients=clients)
    send(book)
    recorder.received.clear()
    return session
