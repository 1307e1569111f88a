"""What turns the book's changes into side effects, installed once per process by the
command line (and by anything else that opens a book: tests, benches): the mail
consumer, with the text channel plugged into its outbox. A new channel is installed
here, not called from the book's operations.

The text channel's registry is light and installed at once (what a text says must be
known before any notice is built); the mail consumer (message building, icalendar) is
imported on the first change, so a read-only command never loads it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from calbridge.book import consumers
from calbridge.sms import channel

if TYPE_CHECKING:
    from calbridge.book.context import Book
    from calbridge.events.changes import Change
    from calbridge.store.db import Db


def install() -> None:
    channel.install()
    consumers.install(_mail)


def _mail(book: Book, db: Db, change: Change) -> list[str]:
    from calbridge.mail import consumer

    return consumer.consume(book, db, change)
