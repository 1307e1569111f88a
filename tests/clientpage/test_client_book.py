"""The client page's book side (book/client_page.py), on SQLite and PostgreSQL: each
action goes through the CLI's book functions and a refusal writes nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from book_helpers import at, plan_one, snapshot
from calbridge.book import Book, client_links, client_moves, outcomes, planning
from calbridge.book import client_page as cp
from calbridge.book.offer_answers import LinkError
from calbridge.core.model import Actor, Status
from calbridge.core.tokens import sign_client
from calbridge.store import repo
from calbridge.store.tables import OutboxRow
from calbridge.store.tables_outcomes import SessionOutcomeRow


def _status(book: Book, session_id: int) -> str:
    with book.transaction() as db:
        return repo.session_row(db, session_id).status


def _ana(book: Book, secret: bytes, token: str) -> cp.Visitor:
    return cp.visitor(book, secret, "ana", token)


def test_lists_only_own_open_upcoming_sessions(book: Book, secret: bytes, token: str) -> None:
    mine = plan_one(book, "2026-12-01T10:00")
    plan_one(book, "2026-12-02T10:00", clients=("ben",))
    gone = plan_one(book, "2026-12-03T10:00")
    planning.cancel(book, gone.id or 0, Actor.ADMIN)
    items = cp.upcoming(book, _ana(book, secret, token))
    assert [i.session_id for i in items] == [mine.id]
    (item,) = items
    assert item.can_accept and item.can_cancel
    assert item.when == (
        "Tuesday 1 December 2026, 10:00\u201311:00 (Europe/London time, your coach's timezone)"
    )


def test_accept_and_decline(book: Book, secret: bytes, token: str) -> None:
    v = _ana(book, secret, token)
    one = plan_one(book, "2026-12-01T10:00")
    two = plan_one(book, "2026-12-02T10:00")
    assert cp.answer(book, v, one.id or 0, True).status is Status.SCHEDULED
    assert cp.answer(book, v, two.id or 0, False).status is Status.DECLINED
    (item,) = cp.upcoming(book, v)
    assert item.session_id == one.id and item.answer == "ACCEPTED" and not item.can_accept
    with pytest.raises(LinkError) as refused:
        cp.answer(book, v, one.id or 0, True)  # nothing left to accept
    assert refused.value.status == 409
    with book.transaction() as db:
        kinds = {
            r.kind for r in db.scalars(select(OutboxRow)) if r.recipient == "maia@practice.example"
        }
    assert "declined" in kinds  # the coach is told


def test_someone_elses_session_is_not_found(book: Book, secret: bytes, token: str) -> None:
    bens = plan_one(book, "2026-12-01T10:00", clients=("ben",))
    before = snapshot(book)
    for act in (
        lambda: cp.answer(book, _ana(book, secret, token), bens.id or 0, False),
        lambda: cp.cancel(book, _ana(book, secret, token), bens.id or 0, cp.PLAIN),
        lambda: client_moves.move(
            book, _ana(book, secret, token), bens.id or 0, at("2026-12-01T14:00")
        ),
    ):
        with pytest.raises(LinkError) as refused:
            act()
        assert refused.value.status == 404
    assert snapshot(book) == before and _status(book, bens.id or 0) == "requested"


def test_cancel_before_the_deadline_is_plain(book: Book, secret: bytes, token: str) -> None:
    v = _ana(book, secret, token)
    session = plan_one(book, "2026-11-23T10:00")  # Monday, 46 h ahead
    terms = cp.cancel_terms(book, v, session.id or 0)
    assert (terms.kind, terms.fee, terms.hours) == (cp.PLAIN, None, 24)
    cp.cancel(book, v, session.id or 0, cp.PLAIN)
    assert _status(book, session.id or 0) == "cancelled"
    with book.transaction() as db:
        assert db.get(SessionOutcomeRow, session.id) is None  # no outcome, no fee


def test_late_cancel_records_the_outcome_and_fee(
    make_book: object, book: Book, secret: bytes, token: str, clock: object
) -> None:
    v = _ana(book, secret, token)
    session = plan_one(book, "2026-11-23T10:00", service="coaching")
    clock.now = at("2026-11-22T12:00")  # type: ignore[attr-defined]  # 22 h ahead
    terms = cp.cancel_terms(book, v, session.id or 0)
    assert (terms.kind, terms.fee) == (cp.LATE, "GBP 60.00")
    with pytest.raises(cp.Changed):  # the client saw the plain terms: asked again
        cp.cancel(book, v, session.id or 0, cp.PLAIN)
    assert _status(book, session.id or 0) == "requested"
    cp.cancel(book, v, session.id or 0, cp.LATE)
    with book.transaction() as db:
        row = repo.session_row(db, session.id or 0)
        saved = db.get(SessionOutcomeRow, session.id)
        assert (row.status, row.outcome) == ("cancelled", "late-cancellation")
        assert saved is not None and saved.cost == Decimal("60.00")
        assert saved.recorded_by == "client"
        cancels = [r for r in db.scalars(select(OutboxRow)) if r.kind == "cancel"]
    assert [r.recipient for r in cancels] == ["ana@example.org"]


def test_the_deadline_is_configurable(make_book: object, tmp_path: object, clock: object) -> None:
    from calbridge.book import parties
    from calbridge.config.secret import load_secret

    b = make_book(  # type: ignore[operator]
        state_dir=str(tmp_path / "state"),  # type: ignore[operator]
        services={"coaching": {"fee": "50", "wage": "20"}},
        policies={"cancel_deadline_hours": 48},
    )
    parties.add_client(b, "Ana Lopez", "ana@example.org", "standard", "ana")
    v = cp.visitor(
        b, load_secret(b.settings), "ana", sign_client(load_secret(b.settings), "ana", 1)
    )
    session = plan_one(b, "2026-11-23T10:00", service="coaching")  # 46 h ahead
    terms = cp.cancel_terms(b, v, session.id or 0)
    assert (terms.kind, terms.hours, terms.fee) == (cp.LATE, 48, "GBP 50.00")


def test_a_failing_late_cancel_writes_nothing(
    book: Book, secret: bytes, token: str, clock: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    v = _ana(book, secret, token)
    session = plan_one(book, "2026-11-23T10:00", service="coaching")
    clock.now = at("2026-11-22T12:00")  # type: ignore[attr-defined]  # late
    real = outcomes.save

    def broken(*args: object, **kw: object) -> object:
        if len(args) < 5 and not kw.get("dry_run"):
            raise RuntimeError("the database went away")
        return real(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(outcomes, "save", broken)
    before = snapshot(book)
    with book.transaction() as db:
        queued = len(list(db.scalars(select(OutboxRow))))
    with pytest.raises(RuntimeError):
        cp.cancel(book, v, session.id or 0, cp.LATE)
    assert snapshot(book) == before and _status(book, session.id or 0) == "requested"
    with book.transaction() as db:
        assert len(list(db.scalars(select(OutboxRow)))) == queued  # no cancellation mailed


def test_move_to_a_free_time_is_client_requested(book: Book, secret: bytes, token: str) -> None:
    v = _ana(book, secret, token)
    session = plan_one(book, "2026-12-01T10:00")
    plan_one(book, "2026-12-01T11:00", clients=("ben",))  # 11:00 is busy
    _, month, slots, more = cp.free_times(book, v, session.id or 0, None, None)
    assert month == "2026-12" and more and len(slots) == cp.SLOTS_SHOWN
    starts = [s for s, _ in slots]
    assert at("2026-12-01T11:00") not in starts and at("2026-12-01T10:00") not in starts
    assert at("2026-12-01T10:30") not in starts  # would overlap ben's at 11:00
    later = cp.free_times(book, v, session.id or 0, None, starts[-1])[2]
    assert later[0][0] > starts[-1]
    moved = client_moves.move(book, v, session.id or 0, at("2026-12-01T14:00"))
    assert (moved.start, moved.status) == (at("2026-12-01T14:00"), Status.SCHEDULED)
    assert [p.partstat for p in moved.participants] == ["ACCEPTED"]
    with book.transaction() as db:
        trail = [
            a.changes for a in repo.audit_trail(db, "session", moved.id) if a.action == "moved"
        ]
    assert trail[-1]["client_requested"] is True


def test_move_to_a_busy_time_is_refused(book: Book, secret: bytes, token: str) -> None:
    v = _ana(book, secret, token)
    session = plan_one(book, "2026-12-01T10:00")
    plan_one(book, "2026-12-01T14:00", clients=("ben",))
    before = snapshot(book)
    for start in (
        "2026-12-01T14:00",
        "2026-12-05T10:00",
        "2026-12-01T14:10",
    ):  # busy, Sat, off-grid
        with pytest.raises(LinkError) as refused:
            client_moves.move(book, v, session.id or 0, at(start))
        assert refused.value.status == 409
    assert snapshot(book) == before


def test_move_respects_the_monthly_limit(book: Book, secret: bytes, token: str) -> None:
    v = _ana(book, secret, token)
    session = plan_one(book, "2026-12-01T10:00")
    plan_one(book, "2027-01-05T10:00")
    plan_one(book, "2027-01-06T10:00")  # standard: 2 a month; January is full
    before = snapshot(book)
    with pytest.raises(LinkError) as refused:
        cp.free_times(book, v, session.id or 0, "2027-01", None)
    assert refused.value.status == 409
    assert refused.value.message == "Your program allows no more sessions in that month."
    with pytest.raises(LinkError):
        client_moves.move(book, v, session.id or 0, at("2027-01-07T10:00"))
    assert snapshot(book) == before
    # Within its own month the session only moves: December still has room.
    assert cp.free_times(book, v, session.id or 0, "2026-12", None)[2]


def test_revoked_and_forged_links(book: Book, secret: bytes, token: str) -> None:
    assert _ana(book, secret, token).version == 1
    with pytest.raises(LinkError) as forged:
        cp.visitor(book, secret, "ben", token)  # ana's token on ben's page
    assert forged.value.status == 403
    with pytest.raises(LinkError) as forged:
        cp.visitor(book, b"another practice's secret!", "ana", token)
    assert forged.value.status == 403
    shown = client_links.show(book, "ana")["url"]
    assert shown.endswith(f"/client/ana/{token}")
    fresh = client_links.revoke(book, "ana")["url"]
    assert fresh != shown and fresh.endswith("/client/ana/" + sign_client(secret, "ana", 2))
    with pytest.raises(LinkError) as revoked:
        _ana(book, secret, token)
    assert revoked.value.status == 410
    assert cp.visitor(book, secret, "ana", sign_client(secret, "ana", 2)).version == 2


def test_archived_client_link_is_gone(book: Book, secret: bytes, token: str) -> None:
    from calbridge.book import archive

    archive.set_archived(book, "client", "ana", True)
    with pytest.raises(LinkError) as gone:
        _ana(book, secret, token)
    assert gone.value.status == 410


def test_started_sessions_cannot_change(
    book: Book, secret: bytes, token: str, clock: object
) -> None:
    session = plan_one(book, "2026-11-23T10:00")
    clock.now = at("2026-11-23T10:30")  # type: ignore[attr-defined]
    v = _ana(book, secret, token)
    (item,) = cp.upcoming(book, v)
    assert not item.can_accept and not item.can_cancel
    with pytest.raises(LinkError):
        cp.cancel_terms(book, v, session.id or 0)
    assert timedelta(0) < session.end - clock.now  # type: ignore[attr-defined]


def test_late_cancel_without_a_fee_is_left_to_the_coach(
    make_book: object, tmp_path: object, clock: object
) -> None:
    from calbridge.book import parties
    from calbridge.config.secret import load_secret

    b = make_book(state_dir=str(tmp_path / "state"))  # type: ignore[operator]  # no services
    parties.add_client(b, "Ana Lopez", "ana@example.org", "standard", "ana")
    key = load_secret(b.settings)
    v = cp.visitor(b, key, "ana", sign_client(key, "ana", 1))
    session = plan_one(b, "2026-11-23T10:00")
    clock.now = at("2026-11-22T12:00")  # type: ignore[attr-defined]
    before = snapshot(b)
    for act in (
        lambda: cp.cancel_terms(b, v, session.id or 0),
        lambda: cp.cancel(b, v, session.id or 0, cp.LATE),
    ):
        with pytest.raises(LinkError) as refused:
            act()
        assert refused.value.title == "Please contact your coach"
    assert snapshot(b) == before and _status(b, session.id or 0) == "requested"


def test_a_group_session_can_only_be_answered(book: Book, secret: bytes, token: str) -> None:
    v = _ana(book, secret, token)
    group = plan_one(book, "2026-12-01T10:00", clients=("ana", "ben"))
    (item,) = cp.upcoming(book, v)
    assert item.can_accept and not item.can_cancel
    for act in (
        lambda: cp.cancel_terms(book, v, group.id or 0),
        lambda: cp.free_times(book, v, group.id or 0, None, None),
    ):
        with pytest.raises(LinkError) as refused:
            act()
        assert refused.value.status == 409
    declined = cp.answer(book, v, group.id or 0, False)
    ana = [p.partstat for p in declined.participants if p.party_id == "ana"]
    assert ana == ["DECLINED"]


def test_a_client_with_a_timezone_reads_the_page_in_it(
    book: Book, secret: bytes, token: str
) -> None:
    from calbridge.book import parties

    parties.edit_client(book, "ana", timezone="America/New_York")
    plan_one(book, "2026-12-01T10:00")  # 10:00 London is 05:00 in New York
    (item,) = cp.upcoming(book, _ana(book, secret, token))
    assert item.when == "Tuesday 1 December 2026, 05:00\u201306:00 (America/New_York time)"
