"""What the housekeeping commands do: closures, archived clients and third parties,
offers, reminders and series."""

from __future__ import annotations

import argparse
from typing import Any

from calbridge.book import Book, closures
from calbridge.cli import render
from calbridge.cli.handlers import Handler, Output
from calbridge.core.model import Closure


def _closure_json(c: Closure) -> dict[str, Any]:
    return {
        "id": c.id,
        "from": str(c.start),
        "to": str(c.end),
        "coach": c.coach_id,
        "reason": c.reason,
    }


def closure_list(book: Book, a: argparse.Namespace) -> Output:
    rows = [_closure_json(c) for c in closures.list_closures(book, a.coach)]
    shown = [r | {"coach": r["coach"] or "(all)"} for r in rows]
    return Output(rows, render.table(shown, ["id", "from", "to", "coach", "reason"], "no closures"))


def closure_remove(book: Book, a: argparse.Namespace) -> Output:
    c = closures.remove_closure(book, a.id)
    who = f"coach {c.coach_id}" if c.coach_id else "the whole practice"
    text = (
        f"removed closure #{c.id} ({c.start} to {c.end}, {who}: {c.reason}); the days are free"
        " and the next sync takes it out of the calendars"
    )
    return Output(_closure_json(c) | {"removed": True}, text)


HANDLERS: dict[tuple[str, str | None], Handler] = {
    ("closure", "list"): closure_list,
    ("closure", "remove"): closure_remove,
}
