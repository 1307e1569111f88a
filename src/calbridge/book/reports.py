"""Reports of a month or a week: client balances, coach wages, support hours (rule 8).

Money comes from what each session saved with its outcome (never recomputed); a group
session charges each of its clients its cost. Support hours are the time of sessions
held: completed, and not a No show. Periods are read in each coach's timezone.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from calbridge.book.context import Book
from calbridge.core.model import Role, Status
from calbridge.core.money import cents, total
from calbridge.core.outcomes import Outcome
from calbridge.core.timeutil import add_months, day_start
from calbridge.errors import UserError
from calbridge.store import repo, repo_sessions
from calbridge.store import repo_outcomes as store
from calbridge.store.tables import SessionRow

KINDS = ("balances", "wages", "hours")
COLUMNS = {
    "balances": ["client", "name", "sessions", "cost", "currency"],
    "wages": ["coach", "name", "sessions", "wage", "currency"],
    "hours": ["coach", "name", "sessions", "minutes", "hours"],
}


@dataclass(frozen=True)
class Period:
    label: str  # 2026-11 or 2026-W47
    first: date
    last: date  # inclusive


def month_period(month: str) -> Period:
    year, number = (int(p) for p in month.split("-"))
    first = date(year, number, 1)
    following = add_months(month, 1).split("-")
    last = date(int(following[0]), int(following[1]), 1) - timedelta(days=1)
    return Period(month, first, last)


def week_period(day: date) -> Period:
    monday = day - timedelta(days=day.weekday())
    year, week, _ = monday.isocalendar()
    return Period(f"{year}-W{week:02d}", monday, monday + timedelta(days=6))


def report(book: Book, kind: str, period: Period, coach_id: str | None = None) -> dict[str, Any]:
    if kind not in KINDS:
        raise UserError(f"unknown report {kind!r} (use {', '.join(KINDS)})")
    coaches = [book.coach(coach_id)] if coach_id else book.settings.coaches
    currency = book.settings.outcomes.currency
    rows_out: dict[str, dict[str, Any]] = {}
    sums: dict[str, list[Decimal]] = defaultdict(list)
    with book.transaction() as db:
        for coach in coaches:
            zone = coach.zone()
            start = day_start(period.first, zone)
            end = day_start(period.last + timedelta(days=1), zone)
            sessions = repo_sessions.starting_between(db, coach.id, start, end)
            saved = store.outcome_rows(db, [s.id for s in sessions])
            for session in sessions:
                outcome = saved.get(session.id)
                if kind == "balances" and outcome is not None and outcome.cost is not None:
                    for part in session.participants:
                        if part.role == Role.CLIENT.value:
                            _count(rows_out, part.party_id, "client")
                            sums[part.party_id].append(outcome.cost)
                elif kind == "wages" and outcome is not None and outcome.wage is not None:
                    _count(rows_out, coach.id, "coach", coach.name)
                    sums[coach.id].append(outcome.wage)
                elif kind == "hours" and _held(session, outcome is not None and outcome.outcome):
                    _count(rows_out, coach.id, "coach", coach.name)
                    minutes = int((session.end - session.start).total_seconds() // 60)
                    sums[coach.id].append(Decimal(minutes))
        if kind == "balances":
            for key, row in rows_out.items():
                row["name"] = repo.client(db, key).name
    return _finish(kind, period, coach_id, currency, rows_out, sums)


def _held(session: SessionRow, outcome: str | bool | None) -> bool:
    return session.status == Status.COMPLETED.value and outcome != Outcome.NO_SHOW.value


def _count(rows: dict[str, dict[str, Any]], key: str, column: str, name: str = "") -> None:
    row = rows.setdefault(key, {column: key, "name": name, "sessions": 0})
    row["sessions"] += 1


def _finish(
    kind: str,
    period: Period,
    coach_id: str | None,
    currency: str,
    rows: dict[str, dict[str, Any]],
    sums: dict[str, list[Decimal]],
) -> dict[str, Any]:
    out = []
    for key in sorted(rows):
        row = rows[key]
        if kind == "hours":
            minutes = int(sum(sums[key], Decimal(0)))
            row["minutes"] = minutes
            row["hours"] = str(cents(Decimal(minutes) / Decimal(60)))
        else:
            row["cost" if kind == "balances" else "wage"] = str(total(sums[key]))
            row["currency"] = currency
        out.append(row)
    data: dict[str, Any] = {
        "report": kind,
        "period": period.label,
        "from": period.first.isoformat(),
        "to": period.last.isoformat(),
        "coach": coach_id,
        "rows": out,
    }
    if kind == "hours":
        minutes = sum(r["minutes"] for r in out)
        data["total"] = {"minutes": minutes, "hours": str(cents(Decimal(minutes) / Decimal(60)))}
    else:
        field = "cost" if kind == "balances" else "wage"
        data["total"] = {field: str(total([Decimal(r[field]) for r in out])), "currency": currency}
    return data
