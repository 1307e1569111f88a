"""What the housekeeping commands do: closures, archived clients and third parties,
offers, reminders and series."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from typing import Any

from calbridge.book import Book, archive
from calbridge.cli import listing, render
from calbridge.cli.handlers import Handler, Output
from calbridge.core.model import Closure
from calbridge.errors import UserError
from calbridge.store import repo


def _closure_json(c: Closure) -> dict[str, Any]:
    return {
        "id": c.id,
        "from": str(c.start),
        "to": str(c.end),
        "coach": c.coach_id,
        "reason": c.reason,
    }


def closure_list(book: Book, a: argparse.Namespace) -> Output:
    from calbridge.book import closures

    rows = [_closure_json(c) for c in closures.list_closures(book, a.coach)]
    shown = [r | {"coach": r["coach"] or "(all)"} for r in rows]
    return Output(rows, render.table(shown, ["id", "from", "to", "coach", "reason"], "no closures"))


def closure_remove(book: Book, a: argparse.Namespace) -> Output:
    from calbridge.book import closures

    c = closures.remove_closure(book, a.id)
    who = f"coach {c.coach_id}" if c.coach_id else "the whole practice"
    text = (
        f"removed closure #{c.id} ({c.start} to {c.end}, {who}: {c.reason}); the days are free"
        " and the next sync takes it out of the calendars"
    )
    return Output(_closure_json(c) | {"removed": True}, text)


def client_list(book: Book, a: argparse.Namespace) -> Output:
    with book.transaction() as db:
        found = [asdict(c) for c in repo.clients(db)]
    return listing.parties("client", found, archive.archived_at(book, "client"), a.all)


def third_party_list(book: Book, a: argparse.Namespace) -> Output:
    with book.transaction() as db:
        found = [asdict(t) for t in repo.third_parties(db)]
    return listing.parties("third-party", found, archive.archived_at(book, "third-party"), a.all)


def _archive(kind: str, archived: bool) -> Handler:
    def handle(book: Book, a: argparse.Namespace) -> Output:
        done = archive.set_archived(book, kind, a.id, archived)
        what = kind.replace("-", " ")
        data = {
            "kind": kind,
            "id": done.id,
            "archived": done.archived_at.isoformat() if done.archived_at else None,
            "upcoming_sessions": done.upcoming,
        }
        if not archived:
            return Output(data, f"{what} {done.id} unarchived: can be planned again")
        text = f"{what} {done.id} archived: kept with their history, not planned or offered"
        if done.upcoming:
            ids = ", ".join(f"#{i}" for i in done.upcoming)
            text += f"\n{len(done.upcoming)} upcoming session(s) kept: {ids} (cancel if wanted)"
        return Output(data, text)

    return handle


def third_party_edit(book: Book, a: argparse.Namespace) -> Output:
    from calbridge.book import parties

    if all(getattr(a, k) is None for k in ("name", "email", "phone", "notify", "timezone")):
        raise UserError("say what changes: --name, --email, --phone, --notify or --timezone")
    t = parties.edit_third_party(
        book, a.id, name=a.name, email=a.email, phone=a.phone, notify=a.notify, timezone=a.timezone
    )
    return Output(asdict(t), f"third party {t.id}: {t.name} <{t.email}>")


def _offer_lines(o: dict[str, Any]) -> list[str]:
    head = (
        f"offer #{o['id']}  session {o['session']}  {o['coach']} -> {o['client']}  {o['state']}"
        f"  (until {o['deadline']})"
    )
    holds = [f"  {h['choice']}. {h['start']} - {h['end'][11:16]}" for h in o["holds"]]
    return [head, *holds]


def offer_list(book: Book, a: argparse.Namespace) -> Output:
    from calbridge.book import offer_admin

    rows = offer_admin.list_offers(book, a.state, a.session)
    text = "\n".join(line for o in rows for line in _offer_lines(o)) or "no offers"
    return Output(rows, text)


def offer_show(book: Book, a: argparse.Namespace) -> Output:
    from calbridge.book import offer_admin

    data = offer_admin.show_offer(book, a.id)
    lines = _offer_lines(data)
    if data["links"]:
        lines += ["links (send these to the client):"]
        lines += [f"  {choice}: {url}" for choice, url in data["links"].items()]
    else:
        lines += [f"no working links: the offer is {data['state']} or past its deadline"]
    return Output(data, "\n".join(lines))


def offer_cancel(book: Book, a: argparse.Namespace) -> Output:
    from calbridge.book import offer_admin

    data = offer_admin.cancel_offer(book, a.id, a.reason)
    held = len(data["holds"])
    text = (
        f"offer #{data['id']} cancelled: {held} hold(s) released, the client's email is queued;"
        + (
            f" session {data['session']} keeps its time"
            if data["session"] is not None
            else f" waitlist entry #{data['waitlist']} keeps waiting"
        )
    )
    return Output(data, text)


def reminder_list(book: Book, a: argparse.Namespace) -> Output:
    from calbridge.mail.reminder_list import upcoming

    rows = upcoming(book, a.coach, a.session)
    shown = [r | {"to": ", ".join(r["to"])} for r in rows]
    columns = ["due", "state", "session", "coach", "start", "lead", "to"]
    return Output(rows, render.table(shown, columns, "no reminders to come"))


def series_show(book: Book, a: argparse.Namespace) -> Output:
    from calbridge.book.series_admin import show_series

    return _series_out(show_series(book, a.id), "")


def _series_toggle(enabled: bool) -> Handler:
    def handle(book: Book, a: argparse.Namespace) -> Output:
        from calbridge.book.series_admin import set_enabled

        return _series_out(set_enabled(book, a.id, enabled), "enabled" if enabled else "disabled")

    return handle


def _series_out(data: dict[str, Any], verb: str) -> Output:
    state = "enabled" if data["enabled"] else "disabled"
    head = f"series #{data['id']} ({data['coach']}, {data['rrule']}): {verb or state}"
    return Output(data, head + "\n" + render.sessions(data["sessions"], "  no sessions"))


HANDLERS: dict[tuple[str, str | None], Handler] = {
    ("closure", "list"): closure_list,
    ("closure", "remove"): closure_remove,
    ("client", "list"): client_list,
    ("reminder", "list"): reminder_list,
    ("series", "show"): series_show,
    ("series", "enable"): _series_toggle(True),
    ("series", "disable"): _series_toggle(False),
    ("offer", "list"): offer_list,
    ("offer", "show"): offer_show,
    ("offer", "cancel"): offer_cancel,
    ("client", "archive"): _archive("client", True),
    ("client", "unarchive"): _archive("client", False),
    ("third-party", "list"): third_party_list,
    ("third-party", "edit"): third_party_edit,
    ("third-party", "archive"): _archive("third-party", True),
    ("third-party", "unarchive"): _archive("third-party", False),
}
