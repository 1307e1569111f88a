"""What the outcome, completion-type, note and report commands do (issue 6)."""

from __future__ import annotations

import argparse
import csv
import io
from decimal import Decimal
from typing import Any

from calbridge.book import Book, notes, reports
from calbridge.book import completion_types as types
from calbridge.book.outcomes import Mode, OutcomeRequest, Selection, save
from calbridge.cli import render
from calbridge.cli.handlers import Handler, Output, session_cancel
from calbridge.cli.progress import shown
from calbridge.core.model import Actor, Status
from calbridge.core.money import parse_amount
from calbridge.core.outcomes import late, parse_outcome
from calbridge.core.timeutil import parse_date, parse_month
from calbridge.errors import UserError
from calbridge.store import repo
from calbridge.store import repo_outcomes as store


def _amount(text: str | None, flag: str) -> Decimal | None:
    if text is None:
        return None
    try:
        return parse_amount(text, flag)
    except ValueError as exc:
        raise UserError(str(exc)) from None


def _selection(a: argparse.Namespace) -> Selection:
    return Selection(
        ids=list(a.ids),
        coach_id=a.coach,
        first=parse_date(a.from_, "--from") if a.from_ else None,
        last=parse_date(a.to, "--to") if a.to else None,
    )


def _request(a: argparse.Namespace) -> OutcomeRequest:
    outcome = None
    if getattr(a, "outcome", None):
        try:
            outcome = parse_outcome(a.outcome)
        except ValueError as exc:
            raise UserError(f"--outcome: {exc}") from None
    return OutcomeRequest(
        outcome=outcome,
        type_label=a.type,
        cost=_amount(a.cost, "--cost"),
        wage=_amount(a.wage, "--wage"),
        service=a.service,
        reason=getattr(a, "reason", None),
        by=Actor(a.by),
    )


def _outcomes(book: Book, a: argparse.Namespace, mode: Mode) -> Output:
    with shown():
        changes = save(book, _selection(a), _request(a), mode, a.dry_run)
    currency = book.settings.outcomes.currency
    rows = [c.as_json(currency) for c in changes]
    data = {"dry_run": a.dry_run, "sessions": rows}
    head = "dry run, nothing written; would save:" if a.dry_run else "saved:"
    table = render.table(
        rows, ["id", "outcome", "type", "status", "service", "cost", "wage", "currency"]
    )
    hints = [f"session {r['id']}: {r['hint']}" for r in rows if r["hint"]]
    return Output(data, "\n".join([head, table, *hints]))


def session_complete(book: Book, a: argparse.Namespace) -> Output:
    return _outcomes(book, a, Mode.COMPLETE)


def session_cancel_many(book: Book, a: argparse.Namespace) -> Output:
    return _outcomes(book, a, Mode.CANCEL)


def session_retype(book: Book, a: argparse.Namespace) -> Output:
    return _outcomes(book, a, Mode.RETYPE)


def session_cancel_hinted(book: Book, a: argparse.Namespace) -> Output:
    """``session cancel``, plus a hint when it came within the late-cancellation notice."""
    out = session_cancel(book, a)
    items = out.data if isinstance(out.data, list) else [out.data]
    now, settings = book.clock(), book.settings
    hints = []
    with book.transaction() as db:
        for item in items:
            row = repo.session_row(db, item["id"])
            notice = settings.late_notice(row.service)
            if row.direct and row.status == Status.CANCELLED.value and late(row.start, now, notice):
                hours = f"{settings.policy(row.service).cancel_deadline_hours:g}"
                item["hint"] = (
                    f"cancelled with less than {hours} h notice: record a late cancellation"
                    f" with `calbridge session cancel-many {row.id}`"
                )
                hints.append(f"session {row.id}: {item['hint']}")
    return Output(out.data, "\n".join([out.text, *hints]))


def session_note(book: Book, a: argparse.Namespace) -> Output:
    data = notes.write_note(book, a.id, a.text, a.sign, Actor(a.by))
    return Output(data, _note_text(data))


def session_comment(book: Book, a: argparse.Namespace) -> Output:
    data = notes.comment(book, a.id, a.text, Actor(a.by))
    return Output(data, _note_text(data))


def session_record(book: Book, a: argparse.Namespace) -> Output:
    with book.transaction() as db:
        row = repo.session_row(db, a.id)
        saved = store.outcome_row(db, a.id)
        data: dict[str, Any] = notes.note_json(db, book, a.id)
        data["status"] = row.status
        data["outcome"] = None
        if saved is not None:
            data["outcome"] = {
                "outcome": saved.outcome,
                "type": saved.type_label,
                "type_description": saved.type_description,
                "maps_to": saved.maps_to,
                "client_rule": saved.client_rule,
                "coach_rule": saved.coach_rule,
                "service": saved.service,
                "currency": saved.currency,
                "fee": store.amount(saved.fee),
                "wage_rate": store.amount(saved.wage_rate),
                "cost": store.amount(saved.cost),
                "wage": store.amount(saved.wage),
                "cost_overridden": saved.cost_overridden,
                "wage_overridden": saved.wage_overridden,
                "recorded_at": saved.recorded_at.isoformat(),
                "recorded_by": saved.recorded_by,
            }
    lines = [f"session {a.id} ({data['status']})"]
    found = data["outcome"]
    if found:
        lines.append(
            f"  outcome  {found['outcome']} ({found['type'] or 'no type'}): cost {found['cost']}"
            f" wage {found['wage']} {found['currency']}"
        )
    return Output(data, "\n".join([*lines, _note_text(data)]))


def _note_text(data: dict[str, Any]) -> str:
    lines = []
    note = data.get("note")
    if note:
        state = "locked" if note["locked"] else "editable"
        signed = f"signed {note['signed_at']} ({state})" if note["signed_at"] else "not signed"
        lines.append(f"  note     {note['text']}  [{signed}]")
    for c in data.get("comments", []):
        lines.append(f"  comment  {c['created_at']} {c['author']}: {c['text']}")
    return "\n".join(lines) or "  no note"


def _modifiers(a: argparse.Namespace) -> tuple[Any, Any]:
    client = types.modifier(a.client_percent, a.client_fixed, "client")
    coach = types.modifier(a.coach_percent, a.coach_fixed, "coach")
    return client, coach


TYPE_COLUMNS = ["label", "maps_to", "client_rule", "coach_rule", "enabled", "description"]


def type_add(book: Book, a: argparse.Namespace) -> Output:
    client, coach = _modifiers(a)
    if client is None or coach is None:
        raise UserError(
            "a type needs (--client-percent N | --client-fixed AMOUNT) and"
            " (--coach-percent N | --coach-fixed AMOUNT)"
        )
    kind = types.add(book, a.label, a.description, a.maps_to, client, coach)
    data = types.as_json(kind)
    return Output(data, "added:\n" + render.table([data], TYPE_COLUMNS))


def type_list(book: Book, a: argparse.Namespace) -> Output:
    rows = types.listing(book)
    return Output(rows, render.table(rows, TYPE_COLUMNS))


def type_edit(book: Book, a: argparse.Namespace) -> Output:
    client, coach = _modifiers(a)
    kind = types.edit(book, a.label, a.description, a.maps_to, client, coach)
    data = types.as_json(kind)
    return Output(data, "now:\n" + render.table([data], TYPE_COLUMNS))


def _toggle(enabled: bool) -> Handler:
    def handler(book: Book, a: argparse.Namespace) -> Output:
        data = types.as_json(types.edit(book, a.label, enabled=enabled))
        return Output(data, f"{data['label']}: {'enabled' if enabled else 'disabled'}")

    return handler


def type_remove(book: Book, a: argparse.Namespace) -> Output:
    data = types.as_json(types.remove(book, a.label))
    return Output(data, f"removed {data['label']} (saved sessions keep their copy)")


def report(book: Book, a: argparse.Namespace) -> Output:
    if a.csv and a.json:
        raise UserError("give --csv or --json, not both")
    if a.month:
        period = reports.month_period(parse_month(a.month, "--month"))
    else:
        period = reports.week_period(parse_date(a.week, "--week"))
    data = reports.report(book, a.kind, period, a.coach)
    columns = reports.COLUMNS[a.kind]
    if a.csv:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(data["rows"])
        return Output(data, buffer.getvalue().rstrip("\n"))
    head = f"{a.kind} {data['period']} ({data['from']} to {data['to']})"
    total = ", ".join(f"{k} {v}" for k, v in data["total"].items())
    return Output(
        data, "\n".join([head, render.table(data["rows"], columns, "  nothing"), f"total: {total}"])
    )


HANDLERS: dict[tuple[str, str | None], Handler] = {
    ("session", "complete"): session_complete,
    ("session", "cancel-many"): session_cancel_many,
    ("session", "retype"): session_retype,
    ("session", "cancel"): session_cancel_hinted,
    ("session", "note"): session_note,
    ("session", "comment"): session_comment,
    ("session", "record"): session_record,
    ("completion-type", "add"): type_add,
    ("completion-type", "list"): type_list,
    ("completion-type", "edit"): type_edit,
    ("completion-type", "enable"): _toggle(True),
    ("completion-type", "disable"): _toggle(False),
    ("completion-type", "remove"): type_remove,
    ("report", None): report,
}
