"""Send what the outbox holds: claimed with a lease, sent once, retried, given up.

One pass sends one channel (``mail`` or ``sms``): the same claim, journal, backoff,
rate-limit handling (a provider's 429 and its Retry-After) and giving up hold for both;
only the transport differs, and an HTTP provider's id for the text is recorded.

Exactly once, step by step for one message:

1. *Claim*: ``UPDATE outbox SET state='sending', claimed_by, claimed_until ... WHERE
   id=? AND (queued and due, or sending with an expired lease)`` and commit. Only the
   instance whose UPDATE counted one row sends; two instances never send one message.
2. *Send* the stored bytes (the Message-ID was fixed at queue time).
3. *Hand-over journal* (SMTP only): right after the server's 250, the Message-ID is
   appended to a local journal and fsync'ed.
4. *Record* ``sent`` in the book and commit.

A process killed before 2 leaves a row in ``sending`` whose lease expires: it is sent
then. Killed between 3 and 4: the journal says the server took it, so it is recorded
without sending again. The folder transport needs no journal: a resend overwrites the
same ``<Message-ID>.eml``. What remains: a kill in the instant between the server's
250 and the journal's fsync (microseconds) sends that one message again on recovery,
with the same Message-ID, which receiving servers and mail clients use to collapse
duplicates; and the journal is per machine, so another machine taking over that row
in that instant cannot see it. No SMTP client can close that window: the server
commits before the client learns of it. A daemon that stops should let the pass finish
(or cancel it between messages), so as not to widen that window.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from calbridge.events.context import BookContext
from calbridge.mail import channels
from calbridge.mail.transport import Closing, Opened, Permanent, Temporary
from calbridge.store import repo_outbox, repo_sms

log = logging.getLogger(__name__)

#: First retry after this; doubled per attempt, at most ``MAX_BACKOFF``.
FIRST_BACKOFF = timedelta(minutes=1)
MAX_BACKOFF = timedelta(hours=1)


def _noop(stage: str, message_id: str) -> None:
    return None


#: Called at "claimed", "handed" (after the server took it, before the record) and
#: "recorded". Crash tests replace it in a child process to kill it at that point.
checkpoint: Callable[[str, str], None] = _noop
CHANNELS = ("mail", "sms")


@dataclass
class SendReport:
    sent: list[str] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)  # journal: sent before a crash
    retried: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    error: str | None = None
    channel: str = "mail"


def lease(book: BookContext) -> timedelta:
    """How long a claim holds: well over one exchange (every step has a timeout)."""
    slowest = max(book.settings.mail.timeout, book.settings.sms.timeout)
    return timedelta(seconds=max(300.0, 10 * slowest))


def journal_path(book: BookContext, channel: str = "mail") -> Path:
    return book.settings.state_dir / f"{channel}-handed-over.log"


class Journal:
    """Ids a server accepted (and the provider's id for it), fsync'ed before the book
    records them: one ``message-id<TAB>provider-id`` line each."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.seen: dict[str, str] = {}
        if path.exists():
            for line in path.read_text("utf-8").splitlines():
                if line.strip():
                    message_id, _, provider = line.strip().partition("\t")
                    self.seen[message_id] = provider

    def __contains__(self, message_id: str) -> bool:
        return message_id in self.seen

    def add(self, message_id: str, provider: str | None = None) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(f"{message_id}\t{provider or ''}\n")
            handle.flush()
            os.fsync(handle.fileno())
        self.seen[message_id] = provider or ""

    def forget(self, keep: set[str]) -> None:
        """Keep only ids whose rows are not yet recorded sent (atomic rewrite)."""
        if not self.path.exists() or set(self.seen) <= keep:
            return
        self.seen = {m: p for m, p in self.seen.items() if m in keep}
        temp = self.path.with_suffix(".tmp")
        temp.write_text("".join(f"{m}\t{p}\n" for m, p in sorted(self.seen.items())), "utf-8")
        temp.replace(self.path)


def backoff(attempts: int) -> timedelta:
    step: timedelta = FIRST_BACKOFF * (2 ** min(max(attempts - 1, 0), 16))
    return min(step, MAX_BACKOFF)


def _opened(book: BookContext, channel: str) -> Closing:
    if channel == "mail":
        return Opened(book.settings.mail)
    opener = channels.openers.get(channel)
    if opener is None:
        raise RuntimeError(f"no transport for the {channel!r} channel: see service.wiring")
    return opener(book)


async def send_all(
    book: BookContext, *, owner: str, now: datetime | None = None
) -> list[SendReport]:
    """One pass of every channel (the daemon's outbox job)."""
    return [await send_due(book, owner=owner, now=now, channel=c) for c in CHANNELS]


async def send_due(
    book: BookContext,
    *,
    owner: str,
    now: datetime | None = None,
    limit: int = 100,
    channel: str = "mail",
) -> SendReport:
    """One pass of ``channel``: send every due message (at most ``limit``), each once.

    Every transaction, the journal's fsync and the folder transports' writes run in a
    worker thread (``asyncio.to_thread``): the daemon's event loop, which also answers
    /healthz and the offer pages, only waits on the network."""
    clock: Callable[[], datetime] = (lambda: now) if now is not None else book.clock
    report = SendReport(channel=channel)
    settings = book.settings.sms if channel == "sms" else book.settings.mail
    give_up = timedelta(hours=settings.give_up_after_hours)
    sender = settings.from_
    ids = await asyncio.to_thread(_due_ids, book, channel, clock(), limit)
    if not ids:
        return report
    journal = await asyncio.to_thread(Journal, journal_path(book, channel))
    async with _opened(book, channel) as transport:
        for row_id in ids:
            current = clock()
            claim = await asyncio.to_thread(_take, book, row_id, owner, current, channel)
            if claim is None:
                continue  # another instance has it
            message_id, recipient = claim.message_id, claim.recipient
            if transport.duplicates and message_id in journal:
                provider = journal.seen[message_id] or None
                await asyncio.to_thread(_sent, book, row_id, owner, current, provider)
                report.recovered.append(message_id)
                log.info("message %s to %s was sent before a restart", message_id, recipient)
                continue
            if claim.row.expires is not None and current >= claim.row.expires:
                await asyncio.to_thread(_drop, book, row_id, owner, message_id, recipient, report)
                continue
            if claim.stopped:  # STOP arrived after it was queued
                why = "opted out (STOP)"
                await asyncio.to_thread(
                    _drop, book, row_id, owner, message_id, recipient, report, why
                )
                continue
            checkpoint("claimed", message_id)
            try:
                provider = await transport.send(sender, recipient, message_id, claim.row.raw)
            except Temporary as exc:
                report.error = str(exc)
                retry = _Retry(claim, current, give_up, str(exc), exc.retry_after)
                await asyncio.to_thread(_retry, book, row_id, owner, retry, report)
                if exc.connection:
                    break  # the server is away: the rest waits for the next pass
                continue
            except Permanent as exc:
                await asyncio.to_thread(_failed, book, row_id, owner, str(exc))
                report.failed.append(message_id)
                log.error("message %s to %s failed for good: %s", message_id, recipient, exc)
                continue
            if transport.duplicates:
                await asyncio.to_thread(journal.add, message_id, provider)
            checkpoint("handed", message_id)
            await asyncio.to_thread(_sent, book, row_id, owner, clock(), provider)
            checkpoint("recorded", message_id)
            report.sent.append(message_id)
    await asyncio.to_thread(_prune, book, journal)
    return report


@dataclass(frozen=True)
class _Claim:
    row: repo_outbox.Claimed
    stopped: bool  # a text to someone who sent STOP after it was queued

    @property
    def message_id(self) -> str:
        return self.row.message_id

    @property
    def recipient(self) -> str:
        return self.row.recipient


def _due_ids(book: BookContext, channel: str, now: datetime, limit: int) -> list[int]:
    with book.transaction() as db:
        return repo_outbox.due_ids(db, channel, now, limit)


def _take(book: BookContext, row_id: int, owner: str, now: datetime, channel: str) -> _Claim | None:
    """Claim one row (step 1) and read what sending it needs; None if another has it."""
    with book.transaction() as db:
        claimed = repo_outbox.claim(db, row_id, owner, now, now + lease(book))
        if claimed is None:
            return None
        stopped = channel == "sms" and repo_sms.opted_out(db, claimed.recipient)
        return _Claim(claimed, stopped)


def _sent(book: BookContext, row_id: int, owner: str, at: datetime, provider: str | None) -> None:
    with book.transaction() as db:
        repo_outbox.finish(
            db, row_id, owner, state="sent", sent_at=at, last_error=None, provider_id=provider
        )


def _failed(book: BookContext, row_id: int, owner: str, error: str) -> None:
    with book.transaction() as db:
        repo_outbox.finish(db, row_id, owner, state="failed", last_error=error)


def _drop(
    book: BookContext,
    row_id: int,
    owner: str,
    message_id: str,
    recipient: str,
    report: SendReport,
    why: str = "it could not be sent before the session began",
) -> None:
    with book.transaction() as db:
        repo_outbox.finish(db, row_id, owner, state="dropped", last_error=why)
    report.dropped.append(message_id)
    log.warning("dropped %s to %s: %s", message_id, recipient, why)


@dataclass(frozen=True)
class _Retry:
    claim: _Claim
    now: datetime
    give_up: timedelta
    error: str
    wait: float | None  # the provider's Retry-After, seconds


def _retry(book: BookContext, row_id: int, owner: str, retry: _Retry, report: SendReport) -> None:
    claim, now, error = retry.claim.row, retry.now, retry.error
    message_id, recipient, attempts = claim.message_id, claim.recipient, claim.attempts
    with book.transaction() as db:
        if now - claim.created >= retry.give_up:
            repo_outbox.finish(db, row_id, owner, state="failed", last_error=f"gave up: {error}")
            report.failed.append(message_id)
            log.error(
                "gave up on message %s to %s after %d attempts over %s: %s",
                message_id,
                recipient,
                attempts,
                now - claim.created,
                error,
            )
            return
        repo_outbox.finish(
            db,
            row_id,
            owner,
            state="queued",
            claimed_by=None,
            not_before=now + max(backoff(attempts), timedelta(seconds=retry.wait or 0)),
            last_error=error,
        )
    report.retried.append(message_id)
    log.warning(
        "message %s to %s deferred (attempt %d): %s", message_id, recipient, attempts, error
    )


def _prune(book: BookContext, journal: Journal) -> None:
    """The journal only needs ids whose row is not recorded ``sent`` yet."""
    if len(journal.seen) < 1000:
        return
    with book.transaction() as db:
        pending = repo_outbox.not_sent(db, journal.seen)
    journal.forget(pending)
