"""The reader loop in-process: IDLE and polling both pick up a message that arrives while
they wait, and ``stop`` ends the loop within a second."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from book_helpers import plan_one
from calbridge.book import Book, views
from calbridge.inbound.mailbox import PassResult, watch
from inbound.conftest import inbound_config
from inbound.replies import Answer, mail
from servers.dovecot import Dovecot


@pytest.mark.parametrize("idle", [True, False], ids=["idle", "poll"])
def test_a_message_arriving_while_the_reader_waits_is_applied(
    make_inbound_book: Callable[..., Book],
    imap_server: Dovecot,
    idle: bool,
    folders: dict[str, str],
) -> None:
    book = make_inbound_book(inbound=inbound_config(imap_server, folders, idle=idle))
    s = plan_one(book, "2026-12-01T10:00", clients=("ana",))
    stop, passes = threading.Event(), []
    done: Callable[[PassResult], None] = passes.append
    reader = threading.Thread(target=watch, args=(lambda: book, stop, done))
    reader.start()
    try:
        deadline = time.monotonic() + 10
        while not passes and time.monotonic() < deadline:
            time.sleep(0.05)  # the first (empty) pass: the reader now waits
        answer = Answer(uid=s.uid, attendee="ana@example.org", partstat="DECLINED")
        imap_server.append(mail(answer, "apple"), folders["folder"])
        while views.show(book, s.id or 0)["status"] != "declined":
            assert time.monotonic() < deadline + 10, "not applied in time"
            time.sleep(0.05)
    finally:
        stop.set()
        reader.join(5)
    assert not reader.is_alive()
    assert sum(p.applied for p in passes) == 1
