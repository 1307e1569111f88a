"""What the waitlist commands do."""

from __future__ import annotations

import argparse
from typing import Any

from calbridge.book import Book, waitlist
from calbridge.cli.handlers import Handler, Output


def _lines(entry: dict[str, Any]) -> list[str]:
    wishes = (
        ", ".join(w for w in (entry["on"] and f"on {entry['on']}", entry["between"]) if w)
        or "any time"
    )
    head = (
        f"#{entry['id']} {entry['client']} waits for {entry['coach']} ({wishes}),"
        f" since {entry['added'][:16]}, {entry['state']}"
    )
    if entry["session"] is not None:
        head += f": session {entry['session']}"
    offers = [
        f"  offer #{o['offer']} {o['start'][:16]} - {o['end'][11:16]}: {o['state']}"
        for o in entry["offers"]
    ]
    return [head, *offers]


def waitlist_add(book: Book, a: argparse.Namespace) -> Output:
    entry = waitlist.add(book, a.client, a.coach, a.on, a.between)
    return Output(entry, "added " + _lines(entry)[0])


def waitlist_list(book: Book, a: argparse.Namespace) -> Output:
    rows = waitlist.list_entries(book, a.coach, a.all)
    text = "\n".join(line for e in rows for line in _lines(e)) or "nobody is on the waitlist"
    return Output(rows, text)


def waitlist_remove(book: Book, a: argparse.Namespace) -> Output:
    entry = waitlist.remove(book, a.id)
    return Output(entry, f"removed #{entry['id']} ({entry['client']}) from the waitlist")


HANDLERS: dict[tuple[str, str | None], Handler] = {
    ("waitlist", "add"): waitlist_add,
    ("waitlist", "list"): waitlist_list,
    ("waitlist", "remove"): waitlist_remove,
}
