"""Folder names of an inbound book and a look at what its mailbox holds."""

from __future__ import annotations

from calbridge.book import Book
from servers.dovecot import Dovecot


def folders(book: Book) -> tuple[str, str, str]:
    inbound = book.settings.inbound
    assert inbound is not None
    return inbound.folder, inbound.applied_folder, inbound.rejected_folder


def filed(server: Dovecot, book: Book) -> tuple[int, int, int]:
    """How many messages are (still in the folder, applied, rejected)."""
    inbox, applied, rejected = folders(book)
    return tuple(len(server.messages(f)) for f in (inbox, applied, rejected))  # type: ignore[return-value]
