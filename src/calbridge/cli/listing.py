"""The lists (`client list`, `third-party list`, `session list`): one shape each, read
through the book or, when the book allows, without SQLAlchemy (store/plain.py; start-up
time)."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from calbridge.cli import render
from calbridge.cli.output import Output
from calbridge.core import limits
from calbridge.core.session_shape import session_json
from calbridge.core.timeutil import day_start, parse_date
from calbridge.errors import UserError
from calbridge.store import plain, plain_sessions

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


def practice_zone(settings: Settings, coach_id: str | None) -> ZoneInfo:
    """The coach's zone; no coach named: the first coach's (UTC without coaches)."""
    if coach_id:
        return settings.coach(coach_id).zone()
    return settings.coaches[0].zone() if settings.coaches else ZoneInfo("UTC")


def bound(day: date, zone: ZoneInfo, flag: str) -> datetime:
    """The instant ``day`` starts in ``zone``; a day at the calendar's edge is a usage error."""
    try:
        return day_start(day, zone)
    except OverflowError:
        raise UserError(f"{flag}: {day} is out of range (use a date before 9999-12-30)") from None


def session_span(settings: Settings, a: argparse.Namespace) -> tuple[Any, Any]:
    """`session list`'s [start, end) from --from and --to (whole days in the coach's zone,
    or the first coach's), None where open."""
    zone = practice_zone(settings, a.coach)
    start = bound(parse_date(a.from_, "--from"), zone, "--from") if a.from_ else None
    end = None
    if a.to:
        last = parse_date(a.to, "--to")
        if last < date.max - timedelta(days=2):
            end = bound(last + timedelta(days=1), zone, "date")
    return start, end


def sessions_without_book(settings: Settings, a: argparse.Namespace) -> Output | None:
    """`session list` read by plain SQL; None: take the book (which also names an unknown
    client)."""
    start, end = session_span(settings, a)

    def reading(conn: plain.Connection) -> Output | None:
        if a.client and plain_sessions.program_of(conn, a.client) is None:
            return None
        found = plain_sessions.matching(conn, a.coach, a.client, start, end)
        programs: dict[str, str | None] = {}

        def months(client_id: str, month: str) -> limits.ClientMonths:
            if client_id not in programs:
                programs[client_id] = plain_sessions.program_of(conn, client_id)
            program = programs[client_id]
            if program is None:
                raise LookupError(client_id)  # a participant the book does not know
            limit = settings.program(program).monthly_limit
            return plain_sessions.client_months(conn, client_id, limit, month)

        try:
            items = [session_json(s, settings.coach(s.coach_id).zone(), months) for s in found]
        except LookupError:
            return None
        return Output(items, render.sessions(items))

    return plain.read(settings.database_url, reading)
