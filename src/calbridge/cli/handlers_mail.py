"""What the mail commands do."""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
from dataclasses import asdict
from typing import Any

from calbridge.book import Book
from calbridge.cli.handlers import Handler, Output
from calbridge.cli.render import table
from calbridge.errors import UserError
from calbridge.mail.reminders import queue_due_reminders
from calbridge.mail.sender import CHANNELS, send_due
from calbridge.store import repo_outbox
from calbridge.store.tables import OutboxRow

PENDING = ("queued", "sending", "failed")


def owner() -> str:
    """Who claims outbox rows: unique per process, readable in the outbox listing."""
    return f"{socket.gethostname()}:{os.getpid()}"


def mail_send(book: Book, a: argparse.Namespace) -> Output:
    if a.limit < 1:
        raise UserError("--limit must be at least 1")
    if a.dry_run:
        return _dry_run(book, a.limit)
    reminders = queue_due_reminders(book)
    channels = [a.channel] if a.channel else list(CHANNELS)
    reports = [
        asyncio.run(send_due(book, owner=owner(), limit=a.limit, channel=c)) for c in channels
    ]
    data: dict[str, Any] = {"reminders_queued": reminders, "error": None, "channels": {}}
    lines = []
    for report in reports:
        data["channels"][report.channel] = asdict(report)
        for key in ("sent", "recovered", "retried", "failed", "dropped"):
            data[key] = data.get(key, []) + getattr(report, key)
        data["error"] = report.error or data["error"]
        lines.append(
            f"{report.channel}: {len(report.sent)} sent, {len(report.recovered)} recovered"
            f" after a restart, {len(report.retried)} to retry, {len(report.failed)} failed,"
            f" {len(report.dropped)} dropped"
        )
        if report.error:
            lines.append(f"{report.channel}: last error: {report.error}")
    lines.append(f"{reminders} reminder(s) queued")
    return Output(data, "\n".join(lines))


def _dry_run(book: Book, limit: int) -> Output:
    reminders = queue_due_reminders(book, dry_run=True)
    with book.transaction() as db:
        rows = [_row(r) for r in repo_outbox.due_rows(db, book.clock(), limit)]
    data = {"dry_run": True, "reminders_due": reminders, "due": rows}
    text = f"dry run, nothing sent: {len(rows)} message(s) due, {reminders} reminder(s) due"
    listing = table(rows, ["id", "channel", "kind", "session", "to", "state", "attempts"], "")
    return Output(data, text + ("\n" + listing if listing else ""))


def _row(r: OutboxRow) -> dict[str, Any]:
    return {
        "id": r.id,
        "channel": r.channel,
        "message_id": r.message_id,
        "kind": r.kind,
        "session": r.session_id,
        "to": r.recipient,
        "state": r.state,
        "attempts": r.attempts,
        "not_before": r.not_before.isoformat(),
        "sent_at": r.sent_at.isoformat() if r.sent_at else None,
        "last_error": r.last_error or "",
        "provider_id": r.provider_id or "",
        "delivery": r.delivery_status or "",
    }


def mail_outbox(book: Book, a: argparse.Namespace) -> Output:
    with book.transaction() as db:
        rows = [_row(r) for r in repo_outbox.rows(db, None if a.all else PENDING)]
    columns = ["id", "channel", "kind", "session", "to", "state", "attempts", "not_before"]
    columns.append("last_error")
    return Output(rows, table(rows, columns, "the outbox is empty"))


HANDLERS: dict[tuple[str, str | None], Handler] = {
    ("mail", "send"): mail_send,
    ("mail", "outbox"): mail_outbox,
}
