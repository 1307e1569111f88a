"""The IMAP side of inbound iMIP: read the answers folder, apply each message, move it.

IMAPClient (a well-kept wrapper of the standard imaplib) gives IDLE, MOVE and UIDPLUS
without hand-written protocol code. A message is moved only after ``apply.process`` has
committed (or recorded its rejection), so a crash in between leaves it in the folder and
the next pass files it again with nothing changed.
"""

from __future__ import annotations

import contextlib
import logging
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from calbridge.book.context import Book
from calbridge.config.inbound import InboundSettings
from calbridge.errors import UserError
from calbridge.inbound.apply import Outcome, process
from calbridge.logevents import event
from calbridge.store import leases

log = logging.getLogger(__name__)
BATCH = 50
IDLE_RENEW = 25 * 60.0  # RFC 2177: re-issue IDLE at least every 29 minutes


@dataclass
class PassResult:
    applied: int = 0
    rejected: int = 0
    outcomes: list[Outcome] = field(default_factory=list)


def settings_of(book: Book) -> InboundSettings:
    inbound = book.settings.inbound
    if inbound is None:
        raise UserError("no [inbound] section in the configuration: set host and username")
    return inbound


def connect(inbound: InboundSettings) -> IMAPClient:
    context = None
    if inbound.tls or inbound.starttls:
        context = ssl.create_default_context(cafile=inbound.ca_file)
    client = IMAPClient(
        inbound.host, port=inbound.port, ssl=inbound.tls, ssl_context=context,
        timeout=inbound.timeout,
    )  # fmt: skip
    try:
        if inbound.starttls:
            client.starttls(context)
        client.login(inbound.username, inbound.secret() or "")
        for folder in (inbound.folder, inbound.applied_folder, inbound.rejected_folder):
            if not client.folder_exists(folder):
                client.create_folder(folder)
    except BaseException:
        with contextlib.suppress(OSError, IMAPClientError):
            client.shutdown()
        raise
    return client


def drain(book: Book, client: IMAPClient, inbound: InboundSettings) -> PassResult:
    """Every message now in the answers folder, applied or filed away, then moved."""
    result = PassResult()
    client.select_folder(inbound.folder)
    uids = sorted(client.search("ALL"))
    for start in range(0, len(uids), BATCH):
        batch = uids[start : start + BATCH]
        fetched = client.fetch(batch, ["BODY.PEEK[]"])
        done: list[Outcome] = []
        for uid in batch:
            raw = fetched.get(uid, {}).get(b"BODY[]")
            if not isinstance(raw, bytes):
                continue  # expunged meanwhile (another instance moved it)
            outcome = process(book, raw)
            _log(outcome, uid)
            result.outcomes.append(outcome)
            done.append(outcome)
            if outcome.outcome == "applied":
                result.applied += 1
            else:
                result.rejected += 1
            folder = (
                inbound.applied_folder if outcome.outcome == "applied" else inbound.rejected_folder
            )
            _move(client, uid, folder)
        _hurry(book, done)
    return result


def _hurry(book: Book, outcomes: list[Outcome]) -> None:
    """The coaches whose sessions changed get their calendars rewritten on the next
    turn, on whichever instance claims them (once per batch, not per message)."""
    coaches: set[str] = set().union(*(o.coaches for o in outcomes))
    if coaches:
        with book.transaction() as db:
            leases.hurry(db, coaches)


def _move(client: IMAPClient, uid: int, folder: str) -> None:
    if client.has_capability("MOVE"):
        client.move([uid], folder)
        return
    client.copy([uid], folder)
    client.delete_messages([uid])
    if client.has_capability("UIDPLUS"):
        client.uid_expunge([uid])
    else:
        client.expunge()


def _log(outcome: Outcome, uid: int) -> None:
    level = logging.INFO if outcome.outcome == "applied" else logging.WARNING
    event(
        log, level, f"inbound.{outcome.outcome}", code=outcome.code, detail=outcome.detail,
        again=outcome.again, imap_uid=uid,
    )  # fmt: skip


def run_once(book: Book) -> PassResult:
    """One pass: connect, drain, log out (``calbridge inbound --once``, the daemon's poll)."""
    inbound = settings_of(book)
    try:
        client = connect(inbound)
        try:
            return drain(book, client, inbound)
        finally:
            _logout(client)
    except (OSError, IMAPClientError) as error:
        raise UserError(f"[inbound] {inbound.host}:{inbound.port}: {error}") from error


def watch(
    book: Callable[[], Book], stop: threading.Event, on_pass: Callable[[PassResult], None]
) -> None:
    """Until ``stop``: drain, then wait with IDLE (or poll) for the next message. A lost
    connection, or a book that cannot be written (the database away), is logged and
    retried with backoff; it never ends the loop. The configuration is read again on
    each reconnection (SIGHUP)."""
    backoff = 1.0
    while not stop.is_set():
        current = book()
        inbound = current.settings.inbound
        if inbound is None:  # removed by a reload: wait for one that brings it back
            stop.wait(5.0)
            continue
        try:
            client = connect(inbound)
            try:
                backoff = 1.0
                _serve(current, client, inbound, stop, on_pass)
            finally:
                _logout(client)
        except (OSError, IMAPClientError) as error:
            event(log, logging.WARNING, "inbound.connection", error=str(error), retry=backoff)
        except Exception as error:  # the book: the message stays in the folder for later
            kind = type(error).__name__
            event(log, logging.ERROR, "inbound.failed", error=f"{kind}: {error}", retry=backoff)
        else:
            continue
        stop.wait(backoff)
        backoff = min(backoff * 2, 300.0)


def _serve(
    book: Book,
    client: IMAPClient,
    inbound: InboundSettings,
    stop: threading.Event,
    on_pass: Callable[[PassResult], None],
) -> None:
    idle = inbound.idle and client.has_capability("IDLE")
    while not stop.is_set():
        on_pass(drain(book, client, inbound))
        if not idle:
            stop.wait(inbound.poll_seconds)
            client.noop()
            continue
        client.idle()
        began = time.monotonic()
        try:
            while not stop.is_set() and time.monotonic() - began < IDLE_RENEW:
                if client.idle_check(timeout=1.0):
                    break
        finally:
            client.idle_done()


def _logout(client: IMAPClient) -> None:
    with contextlib.suppress(OSError, IMAPClientError):
        client.logout()
