"""What each command does: parse its arguments into requests, call the book, shape output."""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from datetime import UTC, date, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from calbridge.book import Book
from calbridge.book.requests import EditRequest, FieldEdit, PlanRequest
from calbridge.cli import listing, render
from calbridge.cli.output import Handler as Handler  # re-exported for the area modules
from calbridge.cli.output import Lazy
from calbridge.cli.output import Output as Output
from calbridge.cli.progress import shown
from calbridge.core.model import Actor, Kind, SeriesSpec
from calbridge.core.series import parse_weekdays
from calbridge.core.timeutil import parse_date, parse_month, parse_time
from calbridge.errors import CalbridgeError, UserError
from calbridge.store import repo

if TYPE_CHECKING:
    from calbridge.book import closures, contacts, parties, planning, series_seats, views
    from calbridge.book import session_edit as session_edit_
else:  # each imported by the first command that uses it (start-up time)
    closures, contacts, parties, planning, series_seats, views, session_edit_ = (
        Lazy(f"calbridge.book.{m}")
        for m in (
            "closures",
            "contacts",
            "parties",
            "planning",
            "series_seats",
            "views",
            "session_edit",
        )
    )


def _minutes(value: int | None, flag: str = "--duration") -> timedelta | None:
    if value is None:
        return None
    if value <= 0:
        raise UserError(f"{flag} must be a positive number of minutes")
    return timedelta(minutes=value)


def client_add(book: Book, a: argparse.Namespace) -> Output:
    c = parties.add_client(book, a.name, a.email, a.program, a.id, a.phone, a.notify, a.timezone)
    return Output(asdict(c), f"added client {c.id} ({c.name}, {c.program})")


def client_show(book: Book, a: argparse.Namespace) -> Output:
    with book.transaction() as db:
        c = asdict(repo.client(db, a.id)) | contacts.described(db, "client", a.id)
    columns = ["id", "name", "email", "program", "timezone", "phone", "notify", "texts"]
    shown = c | {"timezone": c["timezone"] or "their coach's"}
    return Output(c, render.table([shown], columns))


def client_edit(book: Book, a: argparse.Namespace) -> Output:
    c = parties.edit_client(
        book, a.id, name=a.name, email=a.email, program=a.program, phone=a.phone,
        notify=a.notify, timezone=a.timezone,
    )  # fmt: skip
    return Output(asdict(c), f"client {c.id}: {c.name} <{c.email}>, {c.program}")


def third_party_add(book: Book, a: argparse.Namespace) -> Output:
    t = parties.add_third_party(book, a.name, a.email, a.id, a.phone, a.notify, a.timezone)
    return Output(asdict(t), f"added third party {t.id} ({t.name})")


def _series(a: argparse.Namespace) -> SeriesSpec | None:
    if a.repeat is None:
        if a.on or a.count is not None or a.until:
            raise UserError("--on, --count and --until need --repeat weekly|monthly")
        return None
    if a.count is None and a.until is None:
        raise UserError("a series needs exactly one of --count N or --until DATE")
    return SeriesSpec(
        repeat=a.repeat,
        weekdays=parse_weekdays(a.on) if a.on else (),
        count=a.count,
        until=parse_date(a.until, "--until") if a.until else None,
    )


def session_plan(book: Book, a: argparse.Namespace) -> Output:
    zone = book.zone(a.coach)
    start = parse_time(a.start, zone, "--start") if a.start else None
    req = PlanRequest(
        coach_id=a.coach,
        clients=a.client,
        third_parties=a.third_party,
        start=start,
        end=parse_time(a.end, zone, "--end") if a.end else None,
        duration=_minutes(a.duration),
        kind=Kind(a.kind),
        direct=not a.indirect,
        note=a.note,
        private_note=a.private_note,
        remind=a.remind,
        override_availability=a.override_availability,
        by=Actor(a.by),
        series=_series(a),
        service=getattr(a, "service", None),
        record=getattr(a, "record", False),
    )
    planned = planning.plan(book, req)
    return _sessions_output(book, [s.id for s in planned], "planned")


def _sessions_output(book: Book, ids: list[int | None], verb: str) -> Output:
    shown = [views.show(book, i) for i in ids if i is not None]
    for item in shown:
        item.pop("audit", None)
    data: Any = shown[0] if len(shown) == 1 else shown
    return Output(data, f"{verb}:\n" + render.sessions(shown))


def _session_zone(book: Book, session_id: int) -> ZoneInfo:
    with book.transaction() as db:
        return book.zone(repo.session_row(db, session_id).coach_id)


def _field_edit(a: argparse.Namespace) -> FieldEdit | None:
    """The `session edit` flags other than the time, or None if none is given."""
    edit = FieldEdit(
        note=a.note,
        private_note=a.private_note,
        kind=Kind(a.kind) if a.kind else None,
        direct=a.direct,
        service=a.service,
        remind=getattr(a, "remind", None),
        add_clients=a.add_client,
        remove_clients=a.remove_client,
        add_third_parties=a.add_third_party,
        remove_third_parties=a.remove_third_party,
        by=Actor(a.by),
    )
    plain = FieldEdit(remind=edit.remind, by=edit.by)
    return None if edit == plain else edit


def session_edit(book: Book, a: argparse.Namespace) -> Output:
    remind = getattr(a, "remind", None)
    moving = a.start or a.end or a.duration is not None
    fields = _field_edit(a)
    if fields is not None:
        if moving:
            raise UserError(
                "change the time (--start/--end/--duration) and the other fields in two"
                " `session edit` commands"
            )
        if getattr(a, "series", False):
            edited = series_seats.edit_series(book, a.id, fields)
            return _sessions_output(book, [s.id for s in edited], "edited")
        session = session_edit_.edit(book, a.id, fields)
        return _sessions_output(book, [session.id], "edited")
    if getattr(a, "series", False):
        raise UserError(
            "--series goes with --add-client, --remove-client, --add-third-party or"
            " --remove-third-party (a time is changed one occurrence at a time)"
        )
    if not moving and remind is None:
        raise UserError(
            "say what changes: --start, --end, --duration, --[no-]remind, --note,"
            " --private-note, --kind, --direct/--indirect, --service, --add-client,"
            " --remove-client, --add-third-party or --remove-third-party"
        )
    zone = _session_zone(book, a.id)
    req = EditRequest(
        start=parse_time(a.start, zone, "--start") if a.start else None,
        end=parse_time(a.end, zone, "--end") if a.end else None,
        duration=_minutes(a.duration),
        client_requested=a.client_requested,
        override_availability=a.override_availability,
        by=Actor(a.by),
        remind=remind,
    )
    session = planning.edit(book, a.id, req)
    return _sessions_output(book, [session.id], "moved")


def session_answer(book: Book, a: argparse.Namespace) -> Output:
    session = planning.answer(book, a.id, Actor(a.by), a.accept, a.client)
    return _sessions_output(book, [session.id], "accepted" if a.accept else "declined")


def session_cancel(book: Book, a: argparse.Namespace) -> Output:
    done = planning.cancel(book, a.id, Actor(a.by), a.reason, a.following)
    return _sessions_output(book, [s.id for s in done], "cancelled")


def session_show(book: Book, a: argparse.Namespace) -> Output:
    data = views.show(book, a.id)
    return Output(data, render.session_detail(data))


def session_list(book: Book, a: argparse.Namespace) -> Output:
    flt = views.Filter(coach_id=a.coach, client_id=a.client)
    flt.start, flt.end = listing.session_span(book.settings, a)
    items = views.sessions(book, flt)
    return Output(items, render.sessions(items))


def _day_after(day: date, zone: ZoneInfo) -> Any:
    return listing.bound(day + timedelta(days=1), zone, "date")


def closure_add(book: Book, a: argparse.Namespace) -> Output:
    first, last = parse_date(a.from_, "--from"), parse_date(a.to, "--to")
    with shown():
        mode = closures.ClosureMode(a.mode)
        result = closures.add_closure(book, first, last, a.reason, a.coach, mode)
    with book.transaction() as db:
        hit = [views.session_json(book, db, s) for s in result.affected]
    data = {
        "closure": {
            "id": result.closure.id,
            "from": str(first),
            "to": str(last),
            "coach": a.coach,
            "reason": result.closure.reason,
        },
        "mode": result.mode.value,
        "sessions": hit,
    }
    verb = {"dry-run": "would affect", "notify-only": "participants to notify"}.get(
        result.mode.value, "cancelled"
    )
    head = "dry run, nothing written; " if result.mode.value == "dry-run" else "closure added; "
    return Output(data, head + f"{len(hit)} session(s) {verb}:\n" + render.sessions(hit, "  none"))


def slots(book: Book, a: argparse.Namespace) -> Output:
    month = parse_month(a.month, "--month") if a.month else None
    data = views.slots(book, a.coach, a.client, month, _minutes(a.duration), a.service)
    return Output(data, render.slots(data))


def agenda(book: Book, a: argparse.Namespace) -> Output:
    zone = listing.practice_zone(book.settings, a.coach)
    now = book.clock()
    flt = views.Filter(coach_id=a.coach, client_id=a.client, active_only=True)
    if a.week is not None:
        day = parse_date(a.week, "--week") if a.week else now.astimezone(zone).date()
        monday = day - timedelta(days=day.weekday())
        flt.start = views.day_range(book, a.coach, monday, monday)[0]
        flt.end = _day_after(monday + timedelta(days=6), zone)
        items = views.sessions(book, flt)
        for item in items:
            item["start"] = _in_zone(item["start"], zone)
            item["end"] = _in_zone(item["end"], zone)
        return Output(items, render.week(items, monday))
    flt.start = now
    flt.limit = None if a.all else 10
    items = views.sessions(book, flt)
    return Output(items, render.sessions(items, "nothing coming up"))


def _in_zone(iso: str, zone: ZoneInfo) -> str:
    from datetime import datetime

    return datetime.fromisoformat(iso).astimezone(zone).isoformat()


def sync(book: Book, a: argparse.Namespace) -> Output:
    from calbridge.sync.planner import Decision
    from calbridge.sync.run import sync_all

    decision = Decision(a.decision) if a.decision else None
    with shown():
        reports, busy = sync_all(book, a.coach, a.dry_run, decision)
    data = {"calendars": [asdict(r) for r in reports], "busy": [asdict(b) for b in busy]}
    failed = [r for r in reports if r.error]
    if failed and len(failed) == len(reports):
        raise SyncFailed("; ".join(f"{r.calendar}: {r.error}" for r in failed))
    held = [r for r in reports if r.held_back and not r.dry_run]
    for r in held:
        print(f"calbridge: calendar {r.calendar} held: {r.held_back}", file=sys.stderr)
    return Output(data, render.sync_reports(data["calendars"], data["busy"]), 1 if held else 0)


class SyncFailed(CalbridgeError):
    """Every calendar failed (exit 1); the reports still go to --json."""

    def __init__(self, message: str) -> None:
        super().__init__(f"sync failed: {message}")


HANDLERS: dict[tuple[str, str | None], Handler] = {
    ("client", "add"): client_add,
    ("client", "show"): client_show,
    ("client", "edit"): client_edit,
    ("third-party", "add"): third_party_add,
    ("session", "plan"): session_plan,
    ("session", "edit"): session_edit,
    ("session", "answer"): session_answer,
    ("session", "cancel"): session_cancel,
    ("session", "show"): session_show,
    ("session", "list"): session_list,
    ("closure", "add"): closure_add,
    ("slots", None): slots,
    ("agenda", None): agenda,
    ("sync", None): sync,
}
# Areas' handlers stay in their cli/handlers_<area>.py, found by cli/dispatch.py: never
# import them here (every command would pay for aiohttp, IMAP, Graph at start-up).
_ = UTC
