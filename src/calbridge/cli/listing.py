"""The party lists (`client list`, `third-party list`): one shape, read through the book
or, when the book allows, without SQLAlchemy (store/plain.py; start-up time)."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

from calbridge.cli import render
from calbridge.cli.output import Output
from calbridge.store import plain

if TYPE_CHECKING:
    from calbridge.config import Settings

_COLUMNS = {"client": ["id", "name", "email", "program"], "third-party": ["id", "name", "email"]}
_NONE = {"client": "no clients", "third-party": "no third parties"}


def parties(
    kind: str, found: list[dict[str, Any]], when: dict[str, datetime], everyone: bool
) -> Output:
    """The list of ``kind`` (archived ones only when ``everyone``), each with its
    archiving time."""
    rows = []
    for row in found:
        at = when.get(row["id"])
        if at is None or everyone:
            rows.append(row | {"archived": at.isoformat() if at else None})
    columns = _COLUMNS[kind] + (["archived"] if everyone else [])
    return Output(rows, render.table(rows, columns, _NONE[kind]))


def without_book(settings: Settings, a: argparse.Namespace) -> Output | None:
    """`client list` or `third-party list` read by plain SQL; None: take the book."""
    kind = a.command
    every = plain.clients if kind == "client" else plain.third_parties

    def reading(conn: plain.Connection) -> Output:
        found = [asdict(p) for p in every(conn)]
        return parties(kind, found, plain.archived_at(conn, kind), a.all)

    return plain.read(settings.database_url, reading)
