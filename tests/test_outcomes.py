"""Outcomes and money against real databases: snapshots, overrides, bulk, limits (rule 8)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from book_helpers import at, plan, plan_one
from calbridge.book import Book, planning
from calbridge.book import completion_types as types
from calbridge.book.outcomes import Mode, OutcomeRequest, Selection, save
from calbridge.core.model import Actor
from calbridge.core.money import Modifier
from calbridge.core.outcomes import Outcome
from calbridge.errors import NotFound, Refused, UserError
from calbridge.store import repo
from conftest import Clock
from outcome_helpers import complete, money, outcome_book, saved, state, status, topics

D = Decimal


@pytest.fixture
def book(make_book: Callable[..., Book]) -> Book:
    return outcome_book(make_book)


def test_complete_saves_outcome_money_and_status(book: Book, clock: Clock) -> None:
    s = plan_one(book, "2026-12-07T10:00")
    clock.now = at("2026-12-07T11:05")
    (change,) = complete(book, s.id)
    assert change.outcome is Outcome.ATTENDED
    assert status(book, s.id) == "completed"
    assert money(book, s.id) == (D("80.00"), D("45.00"))
    row = saved(book, s.id)
    assert row is not None
    assert (row.type_label, row.service, row.currency) == ("completed", "coaching", "EUR")
    assert (row.fee, row.wage_rate, row.recorded_by) == (D("80.00"), D("45.00"), "admin")
    assert topics(book, s.id)[-1] == "session.completed"
    with book.transaction() as db:
        assert repo.to_session(repo.session_row(db, s.id or 0)).outcome == "attended"
        (entry,) = [a for a in repo.audit_trail(db, "session", s.id) if a.action == "outcome"]
    assert entry.changes["cost"] == "80.00" and entry.changes["overrides"] == {}


def test_saved_money_survives_editing_and_removing_its_type(
    book: Book, clock: Clock, make_book: Callable[..., Book]
) -> None:
    first = plan_one(book, "2026-12-07T10:00", clients=("dee",))
    second = plan_one(book, "2026-12-08T10:00", clients=("dee",))
    clock.now = at("2026-12-09T09:00")
    types.add(book, "Half", "half price", "missed", Modifier.percent(50), Modifier.percent(40))
    complete(book, first.id, type_label="half")
    assert money(book, first.id) == (D("40.00"), D("18.00"))
    types.edit(book, "half", client=Modifier.fixed("5"), coach=Modifier.percent("10"))
    complete(book, second.id, type_label="HALF")
    assert money(book, second.id) == (D("5.00"), D("4.50"))
    assert money(book, first.id) == (D("40.00"), D("18.00"))  # the snapshot stands
    types.remove(book, "half")
    with pytest.raises(NotFound, match="unknown completion type 'half'"):
        complete(book, second.id, type_label="half")
    row = saved(book, first.id)
    assert row is not None and (row.type_label, row.client_rule) == ("Half", "50%")
    assert money(book, first.id) == (D("40.00"), D("18.00"))
    # A new fee in the configuration prices new outcomes only.
    third = plan_one(book, "2026-12-08T14:00", clients=("dee",), record=True)
    dearer = make_book(
        services={"coaching": {"fee": "99.99", "wage": "50"}},
        outcomes={"default_service": "coaching"},
    )
    complete(dearer, third.id)
    assert money(dearer, third.id) == (D("99.99"), D("50.00"))
    assert money(dearer, first.id) == (D("40.00"), D("18.00"))
    assert money(dearer, second.id) == (D("5.00"), D("4.50"))


def test_cost_and_wage_overrides_are_audited(book: Book, clock: Clock) -> None:
    s = plan_one(book, "2026-12-07T10:00")
    clock.now = at("2026-12-07T12:00")
    complete(book, s.id, cost=D("72.50"), wage=D("40.00"))
    assert money(book, s.id) == (D("72.50"), D("40.00"))
    row = saved(book, s.id)
    assert row is not None and row.cost_overridden and row.wage_overridden
    with book.transaction() as db:
        entry = [a for a in repo.audit_trail(db, "session", s.id) if a.action == "outcome"][-1]
    assert entry.changes["overrides"] == {
        "cost": {"computed": "80.00", "given": "72.50"},
        "wage": {"computed": "45.00", "given": "40.00"},
    }
    assert entry.origin == "test"


def test_bulk_is_all_or_nothing(book: Book, clock: Clock) -> None:
    a = plan_one(book, "2026-12-07T10:00", clients=("dee",))
    b = plan_one(book, "2026-12-08T10:00", clients=("dee",))
    later = plan_one(book, "2026-12-21T10:00", clients=("dee",))
    clock.now = at("2026-12-09T09:00")
    before = state(book)
    with pytest.raises(NotFound, match=r"unknown session.*99999.*nothing was changed"):
        complete(book, a.id, 99999, b.id)
    assert state(book) == before
    with pytest.raises(Refused) as info:
        complete(book, a.id, b.id, later.id)
    assert info.value.code == "outcome_refused"
    assert [p["id"] for p in info.value.details["problems"]] == [later.id]
    assert "has not started yet" in info.value.message and "none was" in info.value.message
    assert state(book) == before
    assert [status(book, i) for i in (a.id, b.id)] == ["requested", "requested"]
    assert len(complete(book, a.id, b.id)) == 2
    assert [status(book, i) for i in (a.id, b.id, later.id)] == [
        "completed",
        "completed",
        "requested",
    ]


def test_bulk_by_coach_and_dates_with_a_dry_run(book: Book, clock: Clock) -> None:
    week = [plan_one(book, f"2026-12-0{d}T10:00", clients=("dee",)).id for d in (7, 8, 9)]
    other = plan_one(book, "2026-12-10T10:00", clients=("dee",))
    sam = plan_one(book, "2026-12-09T10:00", clients=("ben",), coach="sam")
    clock.now = at("2026-12-11T09:00")
    selection = Selection(
        coach_id="maia", first=at("2026-12-07T00:00").date(), last=at("2026-12-09T00:00").date()
    )
    req = OutcomeRequest(type_label="missed")
    before = state(book)
    preview = save(book, selection, req, Mode.COMPLETE, dry_run=True)
    assert [c.session_id for c in preview] == week
    assert {c.outcome for c in preview} == {Outcome.NO_SHOW}
    assert state(book) == before
    save(book, selection, req, Mode.COMPLETE)
    assert [status(book, i) for i in week] == ["completed"] * 3
    assert status(book, other.id) == "requested" and status(book, sam.id) == "requested"


def test_cancelling_within_notice_is_a_late_cancellation(book: Book, clock: Clock) -> None:
    s = plan_one(book, "2026-12-07T10:00")
    early = plan_one(book, "2026-12-08T10:00")
    clock.now = at("2026-12-06T20:00")  # 14 h before s, 38 h before early
    selection = Selection(ids=[s.id or 0, early.id or 0])
    changes = save(book, selection, OutcomeRequest(reason="ill"), Mode.CANCEL)
    assert [c.outcome for c in changes] == [Outcome.LATE_CANCELLATION, Outcome.CANCELLED]
    assert changes[0].hint and "late cancellation" in changes[0].hint
    assert changes[1].hint is None
    assert money(book, s.id) == (D("80.00"), D("45.00"))  # late: "missed", in full
    assert money(book, early.id) == (D("0.00"), D("0.00"))
    assert status(book, s.id) == status(book, early.id) == "cancelled"
    assert "session.cancelled" in topics(book, s.id)


def test_explicit_cancelled_within_notice_gets_a_hint(book: Book, clock: Clock) -> None:
    s = plan_one(book, "2026-12-07T10:00")
    clock.now = at("2026-12-07T08:00")
    (change,) = save(
        book, Selection(ids=[s.id or 0]), OutcomeRequest(Outcome.CANCELLED), Mode.CANCEL
    )
    assert change.outcome is Outcome.CANCELLED
    assert change.hint and "--outcome late-cancellation" in change.hint
    # An earlier plain cancellation is judged by when it happened.
    other = plan_one(book, "2026-12-14T10:00")
    planning.cancel(book, other.id or 0, Actor.ADMIN)
    clock.now = at("2026-12-15T08:00")
    (change,) = save(book, Selection(ids=[other.id or 0]), OutcomeRequest(), Mode.CANCEL)
    assert change.outcome is Outcome.CANCELLED


def test_completed_sessions_fill_the_month_and_are_named(book: Book, clock: Clock) -> None:
    a = plan_one(book, "2026-12-07T10:00")
    b = plan_one(book, "2026-12-08T10:00")
    clock.now = at("2026-12-09T09:00")
    complete(book, a.id, b.id)
    with pytest.raises(Refused) as info:
        plan(book, "2026-12-21T10:00")
    err = info.value
    assert err.code == "monthly_limit" and err.details["sessions"] == [a.id, b.id]
    assert err.details["filled_by"] == [
        {"id": a.id, "start": "2026-12-07T10:00:00+00:00"},
        {"id": b.id, "start": "2026-12-08T10:00:00+00:00"},
    ]
    assert f"#{a.id} on Mon 2026-12-07 10:00, #{b.id} on Tue 2026-12-08 10:00" in err.message


def test_not_final_outcomes_of_indirect_work(book: Book, clock: Clock) -> None:
    s = plan_one(book, "2026-12-07T10:00", direct=False)
    clock.now = at("2026-12-07T12:00")
    with pytest.raises(Refused, match="indirect"):
        complete(book, s.id, outcome=Outcome.ATTENDED)
    complete(book, s.id, type_label=None, outcome=Outcome.ON_HOLD)
    row = saved(book, s.id)
    assert row is not None and row.outcome == "on-hold" and row.cost is None
    assert status(book, s.id) == "requested"
    with pytest.raises(UserError, match="takes no --type"):
        complete(book, s.id, type_label="completed", outcome=Outcome.IN_PROGRESS)
    complete(book, s.id)  # default outcome of indirect work: Completed
    assert saved(book, s.id).outcome == "completed"  # type: ignore[union-attr]
    assert money(book, s.id) == (D("80.00"), D("45.00"))


def test_retype_reprices_from_the_saved_service(book: Book, clock: Clock) -> None:
    s = plan_one(book, "2026-12-07T10:00")
    clock.now = at("2026-12-07T12:00")
    complete(book, s.id, service="support")
    assert money(book, s.id) == (D("62.50"), D("33.35"))
    types.add(
        book, "Third", "a third", "completed", Modifier.percent("33.3333"), Modifier.percent(50)
    )
    save(book, Selection(ids=[s.id or 0]), OutcomeRequest(type_label="third"), Mode.RETYPE)
    assert money(book, s.id) == (D("20.83"), D("16.68"))  # 20.833..., 16.675 -> half up
    assert saved(book, s.id).outcome == "attended"  # type: ignore[union-attr]
    fresh = plan_one(book, "2026-12-08T10:00")
    with pytest.raises(Refused, match="no saved outcome"):
        save(book, Selection(ids=[fresh.id or 0]), OutcomeRequest(type_label="third"), Mode.RETYPE)


def test_types_are_checked_and_builtins_fixed(book: Book, clock: Clock) -> None:
    with pytest.raises(UserError, match="at most 15"):
        types.add(
            book, "A very long label", "", "completed", Modifier.percent(1), Modifier.percent(1)
        )
    with pytest.raises(Refused, match="built-in"):
        types.edit(book, "missed", description="x")
    types.add(book, "Gratis", "free", "completed", Modifier.fixed(0), Modifier.percent(100))
    with pytest.raises(Refused, match="exists"):
        types.add(book, "gratis", "", "completed", Modifier.fixed(0), Modifier.fixed(0))
    types.edit(book, "gratis", enabled=False)
    s = plan_one(book, "2026-12-07T10:00")
    clock.now = at("2026-12-07T12:00")
    with pytest.raises(Refused, match="disabled"):
        complete(book, s.id, type_label="gratis")
    types.edit(book, "gratis", enabled=True)
    complete(book, s.id, type_label="gratis")
    assert money(book, s.id) == (D("0.00"), D("45.00"))
    listed = [t["label"] for t in types.listing(book)]
    assert listed == ["completed", "missed", "cancelled", "non-billable", "Gratis"]


def test_no_service_is_a_clear_error(make_book: Callable[..., Book], clock: Clock) -> None:
    bare = outcome_book(make_book, outcomes={})
    s = plan_one(bare, "2026-12-07T10:00")
    clock.now = at("2026-12-07T12:00")
    with pytest.raises(UserError, match=r"give --service NAME or set outcomes\.default_service"):
        complete(bare, s.id)
    assert status(bare, s.id) == "requested"
    with pytest.raises(UserError, match="unknown service 'yoga'"):
        plan_one(bare, "2026-12-08T10:00", service="yoga")
    t = plan_one(bare, "2026-12-09T10:00", service="support")
    clock.now = at("2026-12-09T12:00")
    complete(bare, t.id)
    assert money(bare, t.id) == (D("62.50"), D("33.35"))


def test_completed_sessions_cannot_be_cancelled(book: Book, clock: Clock) -> None:
    s = plan_one(book, "2026-12-07T10:00")
    clock.now = at("2026-12-07T12:00")
    complete(book, s.id)
    with pytest.raises(Refused, match="completed; it cannot be cancelled"):
        complete(book, s.id, type_label=None, outcome=Outcome.CANCELLED)
    with pytest.raises(Refused, match="completed; it cannot be cancelled"):
        save(book, Selection(ids=[s.id or 0]), OutcomeRequest(), Mode.CANCEL)
    assert status(book, s.id) == "completed"


def test_retype_by_range_takes_sessions_with_saved_money(book: Book, clock: Clock) -> None:
    held = plan_one(book, "2026-12-07T10:00", clients=("dee",))
    late = plan_one(book, "2026-12-08T10:00", clients=("dee",))
    untouched = plan_one(book, "2026-12-09T10:00", clients=("dee",))
    planning.cancel(book, untouched.id or 0, Actor.ADMIN)  # cancelled, no outcome saved
    clock.now = at("2026-12-08T09:00")
    save(book, Selection(ids=[late.id or 0]), OutcomeRequest(), Mode.CANCEL)
    complete(book, held.id)
    selection = Selection(
        coach_id="maia", first=at("2026-12-01T00:00").date(), last=at("2026-12-31T00:00").date()
    )
    changes = save(book, selection, OutcomeRequest(type_label="cancelled"), Mode.RETYPE)
    assert [c.session_id for c in changes] == [held.id, late.id]
    assert money(book, held.id) == money(book, late.id) == (D("0.00"), D("0.00"))
    assert saved(book, late.id).outcome == "late-cancellation"  # type: ignore[union-attr]
