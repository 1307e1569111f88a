"""`session edit` of everything but the time: notes, kind, direct/indirect, service,
reminders, clients and third parties. One transaction: a failed check changes nothing.

The rules are planning's: an added client must not be archived and must have room in
the session's month (PRODUCT rule 1), unless the work is indirect; indirect work turned
direct checks every client's month again. A kind changes within its family only
(client <-> video, non-client <-> team): a client session keeps at least one client, an
event without clients gets none. Only the added participant is invited, only the one
taken off gets a CANCEL (mail/seat_notices.py; for one occurrence of a series both carry
its RECURRENCE-ID); nothing else is mailed (IMIP.md: none of these edits is
significant), and the coach's copy follows on the next sync. Money follows the service
when the session is completed, as for a planned session. A whole series' participants:
book/series_seats.py.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from calbridge.book import checks, planning
from calbridge.book.context import Book
from calbridge.book.requests import FieldEdit
from calbridge.core import limits
from calbridge.core.model import CLIENT_KINDS, Participant, Role, Session, Status
from calbridge.core.timeutil import month_of
from calbridge.errors import Refused, UserError
from calbridge.events.changes import RemindersOff, SeatsAdded, SeatsRemoved
from calbridge.store import repo, repo_offers
from calbridge.store.db import Db, lock


def check_request(req: FieldEdit) -> None:
    for flag, text in (("--note", req.note), ("--private-note", req.private_note)):
        if text is not None and "\x00" in text:
            raise UserError(f"{flag} holds a NUL character; remove it")
    for flag, ids in (
        ("--add-client", req.add_clients),
        ("--remove-client", req.remove_clients),
        ("--add-third-party", req.add_third_parties),
        ("--remove-third-party", req.remove_third_parties),
    ):
        if any(not i.strip() for i in ids):
            raise UserError(f"{flag} needs an id (see `calbridge client list`)")
        if len(set(ids)) != len(ids):
            raise UserError(f"the same {flag} is named twice")
    both = set(req.add_clients) & set(req.remove_clients)
    both |= set(req.add_third_parties) & set(req.remove_third_parties)
    if both:
        raise UserError(f"{sorted(both)[0]!r} is both added and removed; name it once")


def edit(book: Book, session_id: int, req: FieldEdit) -> Session:
    """Apply ``req`` to one session (an occurrence of a series on its own)."""
    check_request(req)
    if req.service is not None:
        checks.service(book, req.service)
    with book.transaction() as db:
        first = repo.session_row(db, session_id)
        had = [p.party_id for p in first.participants if p.role == Role.CLIENT.value]
        lock(db, [f"coach:{first.coach_id}"] + [f"client:{c}" for c in had + req.add_clients])
        row = planning._open_row(db, session_id)
        old = repo.to_session(row)
        _check_allowed(old, req)
        if req.seats:
            series_enabled(db, old)
            no_open_offer(book, db, session_id)
        new = replace(old, participants=_seats(db, old, req))
        _apply_fields(new, req)
        _check_kind(old, new)
        _check_limits(book, db, old, new, req.add_clients)
        changes = changes_of(old, new)
        if not changes:
            return old
        repo.write_session(db, new, book.clock(), row)
        planning._log(book, db, new, "edited", req.by, changes)
        if old.remind and not new.remind:
            book.emit(db, RemindersOff([new]))
        one = new.series_id is not None  # an occurrence: its RECURRENCE-ID only
        added = changes.get("added", [])
        back = taken_off_before(db, new.uid, added)
        book.emit(db, SeatsAdded([new], added, back, one))
        sequence = repo.next_sequence(db, old.uid)  # the CANCEL's; the book's stays
        book.emit(db, SeatsRemoved([old], changes.get("removed", []), sequence, one))
        return new


def taken_off_before(db: Db, uid: str, parties: list[str]) -> list[str]:
    """Which of ``parties`` were taken off a session of ``uid`` earlier (a CANCEL went to
    them, whose SEQUENCE is above the book's)."""
    if not parties:
        return []
    gone: set[str] = set()
    for session_id in repo.session_ids_of_uid(db, uid):
        trail = repo.audit_trail(db, "session", session_id)
        gone |= {p for r in trail if r.action == "edited" for p in r.changes.get("removed", [])}
    return [p for p in parties if p in gone]


def _check_allowed(old: Session, req: FieldEdit) -> None:
    if old.status is Status.COMPLETED:
        others = (req.kind, req.direct, req.service, req.remind)
        if req.seats or any(v is not None for v in others):
            raise UserError(
                f"session {old.id} is completed: only --note and --private-note can change"
                f" (re-price it with `calbridge session retype {old.id} --type TYPE"
                " --service NAME`)"
            )


def series_enabled(db: Db, session: Session) -> None:
    """A disabled series mails nothing new (`series disable`): its seats wait too."""
    if session.series_id is not None and not repo.series_enabled(db, session.series_id):
        raise Refused(
            "series_disabled",
            f"series #{session.series_id} is disabled: `calbridge series enable"
            f" {session.series_id}` first, then add or take off participants",
            series=session.series_id,
        )


def no_open_offer(book: Book, db: Db, session_id: int) -> None:
    """An open offer was made to the session's client: its answer would move a session
    whose participants changed under it."""
    found = repo_offers.open_offer(db, session_id)
    if found is not None and found.deadline > book.clock():
        raise Refused(
            "offer_open",
            f"session {session_id} has offer #{found.id} open until"
            f" {found.deadline.isoformat()}: cancel it first (`calbridge offer cancel"
            f" {found.id}`) or wait for its answer",
            offer=found.id,
        )


def _seats(db: Db, old: Session, req: FieldEdit) -> list[Participant]:
    """The participants after the edit; unknown, archived or misnamed ids are refused."""
    for ids, present, what in (
        (req.remove_clients, old.clients, "client"),
        (req.remove_third_parties, old.third_parties, "third party"),
    ):
        for party in ids:
            if party not in present:
                listed = ", ".join(present) or "none"
                raise UserError(
                    f"{party!r} is not a {what} of session {old.id} (its {what}s: {listed})"
                )
    everyone = old.clients + old.third_parties
    for party in req.add_clients + req.add_third_parties:
        if party in everyone:
            raise UserError(f"{party!r} already takes part in session {old.id}")
    for party in req.add_clients:
        repo.client(db, party)
    for party in req.add_third_parties:
        repo.third_party(db, party)
    checks.not_archived(db, req.add_clients, req.add_third_parties)
    gone = set(req.remove_clients) | set(req.remove_third_parties)
    people = [p for p in old.participants if p.party_id not in gone]
    people += [Participant(c, Role.CLIENT) for c in req.add_clients]
    people += [Participant(t, Role.THIRD_PARTY) for t in req.add_third_parties]
    return people


FIELDS = ("note", "private_note", "kind", "direct", "service", "remind")


def _apply_fields(new: Session, req: FieldEdit) -> None:
    for name in FIELDS:
        value = getattr(req, name)
        if value is not None:
            setattr(new, name, value)


def _check_kind(old: Session, new: Session) -> None:
    if (old.kind in CLIENT_KINDS) != (new.kind in CLIENT_KINDS):
        family = "client or video" if old.kind in CLIENT_KINDS else "non-client or team"
        raise UserError(
            f"session {old.id} is a {old.kind} session: --kind can be {family} (a"
            f" {new.kind} event is a different thing: cancel this one and plan that)"
        )
    if new.kind in CLIENT_KINDS and not new.clients:
        raise UserError(
            f"session {old.id} would have no client left: a {new.kind} session needs at"
            f" least one (add one with --add-client, or `calbridge session cancel {old.id}`)"
        )
    if new.kind not in CLIENT_KINDS and new.clients:
        raise UserError(f"a {new.kind} event has no clients; drop --add-client")


def _check_limits(book: Book, db: Db, old: Session, new: Session, added: list[str]) -> None:
    """Who starts using a session of their month has room in it (PRODUCT rule 1)."""
    open_ = new.status in (Status.REQUESTED, Status.SCHEDULED)
    if not (open_ and new.kind in CLIENT_KINDS and new.direct):
        return
    counted = old.kind in CLIENT_KINDS and old.direct
    ids = added if counted else new.clients
    if not ids:
        return
    coach = book.coach(new.coach_id)
    place = limits.Placement(month_of(new.start, coach.zone()), new.start, new.id)
    checks.monthly_limits(book, db, coach, [repo.client(db, c) for c in ids], [place])


def changes_of(old: Session, new: Session) -> dict[str, Any]:
    """What changed, for the audit trail (the private note's text stays out of it)."""
    found: dict[str, Any] = {}
    for name in ("note", "kind", "direct", "service", "remind"):
        before, after = getattr(old, name), getattr(new, name)
        if before != after:
            found[name] = [before, after]
    if old.private_note != new.private_note:
        found["private_note"] = "changed"
    had = {p.party_id for p in old.participants}
    has = {p.party_id for p in new.participants}
    if has - had:
        found["added"] = sorted(has - had)
    if had - has:
        found["removed"] = sorted(had - has)
    return found
