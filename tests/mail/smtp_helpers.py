"""A real SMTP server (aiosmtpd) on loopback that records what it accepts, and helpers
to read the messages calbridge sent."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from icalendar import Calendar

from calbridge.book import Book
from calbridge.mail.sender import SendReport, send_due

SENDER = "sessions@practice.example"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])


@dataclass
class Recorder:
    """The handler: records accepted messages; can refuse DATA or recipients on demand."""

    received: list[Received] = field(default_factory=list)
    refuse_data: int = 0  # refuse this many DATA commands with ``refuse_reply`` first
    refuse_reply: str = "451 4.3.0 try again later"
    unknown: set[str] = field(default_factory=set)  # recipients answered 550
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.unknown:
            return "550 5.1.1 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            if self.refuse_data > 0:
                self.refuse_data -= 1
                return self.refuse_reply
            raw = envelope.original_content or envelope.content
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), raw))
        return "250 2.0.0 accepted"

    def ids(self) -> list[str]:
        with self.lock:
            return [r.message_id for r in self.received]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def smtp_server(port: int | None = None) -> Iterator[tuple[Recorder, int]]:
    recorder = Recorder()
    port = port or free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield recorder, port
    finally:
        controller.stop()


def smtp_config(port: int) -> dict[str, Any]:
    return {
        "transport": "smtp",
        "host": "127.0.0.1",
        "port": port,
        "starttls": False,
        "from": SENDER,
        "timeout": 5.0,
    }


def send(book: Book, owner: str = "test", **kw: Any) -> SendReport:
    return asyncio.run(send_due(book, owner=owner, **kw))


def calendar_part(message: EmailMessage) -> tuple[bytes, str]:
    """The text/calendar part inside the first multipart/alternative, with its method."""
    alternative = next(iter(message.iter_parts()))
    for part in alternative.iter_parts():
        if part.get_content_type() == "text/calendar":
            data = part.get_payload(decode=True)
            assert isinstance(data, bytes)
            return data, str(part.get_param("method"))
    raise AssertionError("no text/calendar part")


def vevents(data: bytes) -> list[Any]:
    return list(Calendar.from_ical(data).walk("VEVENT"))


def by_recipient(received: list[Received]) -> dict[str, list[Received]]:
    out: dict[str, list[Received]] = {}
    for item in received:
        for rcpt in item.rcpt_tos:
            out.setdefault(rcpt, []).append(item)
    return out


Check = Callable[[EmailMessage], None]
