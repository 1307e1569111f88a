"""`session edit ID --series`: participants added to or taken off a whole series.

The series is every occurrence still to come that is open (requested or scheduled):
completed, cancelled, declined and past occurrences keep their participants. One
transaction, planning's rules: an added client must not be archived and must have room
in the month of every occurrence they join (PRODUCT rule 1, counted cumulatively, so a
month that would go over is named), an occurrence keeps at least one client, and no
occurrence may have an open offer. The added participant alone gets the series as a
REQUEST, the one taken off alone gets a CANCEL of the series (mail/seat_notices.py); the
coach's copy (master and overrides, each with its attendees) follows on the next sync.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from calbridge.book import checks, planning, session_edit
from calbridge.book.context import Book
from calbridge.book.requests import FieldEdit
from calbridge.core import limits
from calbridge.core.model import CLIENT_KINDS, Participant, Role, Session, Status
from calbridge.core.timeutil import month_of, show, zone
from calbridge.errors import Refused, UserError
from calbridge.events.changes import SeatsAdded, SeatsRemoved
from calbridge.store import repo
from calbridge.store.db import Db, lock
from calbridge.store.tables import SessionRow

OPEN = (Status.REQUESTED, Status.SCHEDULED)
SEAT_FLAGS = "--add-client, --remove-client, --add-third-party or --remove-third-party"


def _check_request(req: FieldEdit) -> None:
    session_edit.check_request(req)
    if not req.seats:
        raise UserError(f"--series goes with {SEAT_FLAGS}: name whom to add or take off")
    others = (req.note, req.private_note, req.kind, req.direct, req.service, req.remind)
    if any(v is not None for v in others):
        raise UserError(
            f"--series changes participants only ({SEAT_FLAGS}); change the other fields"
            " of each occurrence without --series"
        )


def edit_series(book: Book, session_id: int, req: FieldEdit) -> list[Session]:
    """Apply the participant changes of ``req`` to the series of session ``session_id``;
    returns the occurrences that changed."""
    _check_request(req)
    with book.transaction() as db:
        series_id = repo.session_row(db, session_id).series_id
        if series_id is None:
            raise UserError(
                f"session {session_id} is not part of a series; drop --series to edit it"
            )
        _lock(db, series_id, req.add_clients)
        rows = repo.series_session_rows(db, series_id)
        coming = _coming(book, db, series_id, rows)
        olds = [repo.to_session(r) for r in coming]
        _check_parties(db, series_id, olds, req)
        news = [replace(o, participants=_seats(o, req)) for o in olds]
        _check_clients_left(olds, news)
        _check_limits(book, db, olds, news, req.add_clients)
        return _write(book, db, coming, olds, news, req)


def _lock(db: Db, series_id: int, added: list[str]) -> None:
    rows = repo.series_session_rows(db, series_id)
    had = {p.party_id for r in rows for p in r.participants if p.role == Role.CLIENT.value}
    names = [f"client:{c}" for c in sorted(had | set(added))]
    lock(db, [f"coach:{rows[0].coach_id}", *names])


def _coming(book: Book, db: Db, series_id: int, rows: list[SessionRow]) -> list[SessionRow]:
    now = book.clock()
    session_edit.series_enabled(db, repo.to_session(rows[0]))
    coming = [r for r in rows if Status(r.status) in OPEN and r.end > now]
    if not coming:
        raise Refused(
            "not_open",
            f"series #{series_id} has no occurrence still to come that is open"
            " (requested or scheduled): nothing to add anyone to or take anyone off",
            series=series_id,
        )
    for row in coming:
        session_edit.no_open_offer(book, db, row.id)
    return coming


def _check_parties(db: Db, series_id: int, olds: list[Session], req: FieldEdit) -> None:
    """Unknown, archived, absent or already-everywhere ids are refused."""
    for ids, what in ((req.remove_clients, "client"), (req.remove_third_parties, "third party")):
        for party in ids:
            if not any(party in _ids(o, what) for o in olds):
                present = sorted({p for o in olds for p in _ids(o, what)})
                raise UserError(
                    f"{party!r} is not a {what} of any occurrence still to come of series"
                    f" #{series_id} (its {what}s: {', '.join(present) or 'none'})"
                )
    for party in req.add_clients:
        repo.client(db, party)
    for party in req.add_third_parties:
        repo.third_party(db, party)
    for party in req.add_clients + req.add_third_parties:
        if all(_takes_part(o, party) for o in olds):
            raise UserError(
                f"{party!r} already takes part in every occurrence still to come of"
                f" series #{series_id}"
            )
    checks.not_archived(db, req.add_clients, req.add_third_parties)


def _ids(session: Session, what: str) -> list[str]:
    return session.clients if what == "client" else session.third_parties


def _takes_part(session: Session, party: str) -> bool:
    return any(p.party_id == party for p in session.participants)


def _seats(old: Session, req: FieldEdit) -> list[Participant]:
    gone = set(req.remove_clients) | set(req.remove_third_parties)
    people = [p for p in old.participants if p.party_id not in gone]
    for ids, role in ((req.add_clients, Role.CLIENT), (req.add_third_parties, Role.THIRD_PARTY)):
        people += [Participant(p, role) for p in ids if not _takes_part(old, p)]
    return people


def _check_clients_left(olds: list[Session], news: list[Session]) -> None:
    for old, new in zip(olds, news, strict=True):
        if new.kind in CLIENT_KINDS and not new.clients:
            when = show(old.start, zone(old.tzid))
            raise UserError(
                f"occurrence {old.id} ({when}) would have no client left: a {new.kind}"
                f" session needs at least one (add one with --add-client, or"
                f" `calbridge session cancel {old.id}`)"
            )
        if new.kind not in CLIENT_KINDS and new.clients:
            raise UserError(f"a {new.kind} event has no clients; drop --add-client")


def _check_limits(
    book: Book, db: Db, olds: list[Session], news: list[Session], added: list[str]
) -> None:
    """Every occurrence an added client joins counts in its month (PRODUCT rule 1)."""
    coach = book.coach(news[0].coach_id)
    zone = coach.zone()
    for client in added:
        joins = [
            limits.Placement(month_of(n.start, zone), n.start, n.id)
            for o, n in zip(olds, news, strict=True)
            if n.kind in CLIENT_KINDS and n.direct and not _takes_part(o, client)
        ]
        checks.monthly_limits(book, db, coach, [repo.client(db, client)], joins)


def _write(
    book: Book,
    db: Db,
    rows: list[SessionRow],
    olds: list[Session],
    news: list[Session],
    req: FieldEdit,
) -> list[Session]:
    changed: list[tuple[Session, Session, dict[str, Any]]] = []
    for row, old, new in zip(rows, olds, news, strict=True):
        changes = session_edit.changes_of(old, new)
        if changes:
            repo.write_session(db, new, book.clock(), row)
            planning._log(book, db, new, "edited", req.by, {**changes, "series": True})
            changed.append((old, new, changes))
    for party in req.add_clients + req.add_third_parties:
        joined = [n for _, n, c in changed if party in c.get("added", [])]
        back = session_edit.taken_off_before(db, joined[0].uid, [party])
        book.emit(db, SeatsAdded(joined, [party], back))
    gone = req.remove_clients + req.remove_third_parties
    if gone:
        sequence = repo.next_sequence(db, news[0].uid)  # the CANCEL's; the book's stays
        book.emit(db, SeatsRemoved([o for o, _, _ in changed], gone, sequence))
    return [n for _, n, _ in changed]
