"""What turns the book's changes into side effects, installed once per process by the
command line (and by anything else that opens a book: tests, benches): the mail
consumer, with the text channel plugged into its outbox. A new channel is installed
here, not called from the book's operations."""

from __future__ import annotations

from calbridge.book import consumers
from calbridge.mail import consumer
from calbridge.sms import channel


def install() -> None:
    channel.install()
    consumers.install(consumer.consume)
