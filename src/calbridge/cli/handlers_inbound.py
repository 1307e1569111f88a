"""What `calbridge inbound` and `calbridge counter list|accept|decline` do."""

from __future__ import annotations

import argparse

from calbridge.book import Book
from calbridge.cli.handlers import Handler, Output
from calbridge.cli.render import table
from calbridge.inbound import counter
from calbridge.inbound.mailbox import run_once


def inbound(book: Book, a: argparse.Namespace) -> Output:
    result = run_once(book)
    rows = [
        {"outcome": o.outcome, "code": o.code, "again": o.again, "detail": o.detail}
        for o in result.outcomes
    ]
    data = {"applied": result.applied, "rejected": result.rejected, "messages": rows}
    head = f"{result.applied} applied, {result.rejected} rejected"
    text = head if not rows else head + "\n" + table(rows, ["outcome", "code", "detail"])
    return Output(data, text)


COLUMNS = ["id", "from", "session", "client", "start", "end", "state", "comment"]


def counter_list(book: Book, a: argparse.Namespace) -> Output:
    rows = counter.listing(book, a.all)
    return Output(rows, table(rows, COLUMNS, "no requests for another time waiting"))


def counter_accept(book: Book, a: argparse.Namespace) -> Output:
    done = counter.accept(book, a.id)
    return Output(done, f"counter {a.id} accepted: session {done['session']} moved")


def counter_decline(book: Book, a: argparse.Namespace) -> Output:
    done = counter.decline(book, a.id, a.reason)
    how = "by mail and on their page" if done["from"] == "page" else "(DECLINECOUNTER)"
    return Output(done, f"counter {a.id} declined: the client is told {how}")


HANDLERS: dict[tuple[str, str | None], Handler] = {
    ("inbound", None): inbound,
    ("counter", "list"): counter_list,
    ("counter", "accept"): counter_accept,
    ("counter", "decline"): counter_decline,
}
