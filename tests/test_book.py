"""The session book's rules against real databases (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from book_helpers import at, move, plan, plan_one, snapshot
from calbridge.book import Book, parties, planning, views
from calbridge.book.closures import ClosureMode, add_closure
from calbridge.core.model import Actor, Kind, SeriesSpec, Side, Status
from calbridge.core.timeutil import parse_date
from calbridge.errors import NotFound, Refused, UserError


def refused(code: str, fn: Any, *args: Any, **kw: Any) -> Refused:
    with pytest.raises(Refused) as info:
        fn(*args, **kw)
    assert info.value.code == code, info.value.message
    return info.value


# --- rule 1: monthly limit -------------------------------------------------------------


def test_plan_is_requested_and_numbered(book: Book) -> None:
    first = plan_one(book, "2026-12-01T10:00")
    second = plan_one(book, "2026-12-08T10:00")
    assert first.status is Status.REQUESTED and first.awaiting is Side.CLIENT
    shown = views.show(book, second.id or 0)
    assert (shown["month_index"], shown["month_limit"], shown["month"]) == (2, 2, "2026-12")
    assert shown["start"] == "2026-12-08T10:00:00+00:00"


def test_full_month_is_refused_naming_month_sessions_and_next(book: Book) -> None:
    a = plan_one(book, "2026-12-01T10:00")
    b = plan_one(book, "2026-12-08T10:00")
    before = snapshot(book)
    err = refused("monthly_limit", plan, book, "2026-12-15T10:00")
    assert err.details["month"] == "2026-12"
    assert err.details["sessions"] == [a.id, b.id]
    assert err.details["next_month"] == "2027-01"
    assert "2026-12" in err.message and f"#{a.id}" in err.message and "2027-01" in err.message
    assert snapshot(book) == before


def test_next_month_with_room_skips_full_months(book: Book) -> None:
    for start in ("2026-12-01T10:00", "2026-12-08T10:00", "2027-01-05T10:00", "2027-01-12T10:00"):
        plan_one(book, start)
    err = refused("monthly_limit", plan, book, "2026-12-15T10:00")
    assert err.details["next_month"] == "2027-02"


def test_cancelled_and_declined_do_not_count(book: Book) -> None:
    a = plan_one(book, "2026-12-01T10:00")
    b = plan_one(book, "2026-12-08T10:00")
    planning.cancel(book, a.id or 0, Actor.ADMIN, "ill")
    planning.answer(book, b.id or 0, Actor.CLIENT, accept=False)
    plan_one(book, "2026-12-15T10:00")
    plan_one(book, "2026-12-16T10:00")
    refused("monthly_limit", plan, book, "2026-12-17T10:00")


def test_completed_counts_and_non_client_events_never_do(book: Book) -> None:
    plan(book, "2026-12-01T09:00", clients=(), kind=Kind.NON_CLIENT)
    plan(book, "2026-12-01T11:00", clients=(), kind=Kind.TEAM)
    plan_one(book, "2026-12-02T10:00", clients=("cy",))
    refused("monthly_limit", plan, book, "2026-12-03T10:00", clients=("cy",))


def test_month_is_the_coachs_local_month(book: Book) -> None:
    # 2027-01-31 19:30 in New York is already February in UTC: it fills January.
    plan_one(book, "2027-01-31T19:30", clients=("cy",), coach="sam", override_availability=True)
    refused("monthly_limit", plan, book, "2027-01-04T10:00", clients=("cy",))
    plan_one(book, "2027-02-03T10:00", clients=("cy",))


def test_leap_day_counts_in_february(book: Book) -> None:
    session = plan_one(book, "2028-02-29T10:00", clients=("cy",))
    assert views.show(book, session.id or 0)["month"] == "2028-02"
    err = refused("monthly_limit", plan, book, "2028-02-01T10:00", clients=("cy",))
    assert err.details["next_month"] == "2028-03"


def test_move_within_its_month_is_always_allowed(make_book: Any) -> None:
    book = make_book()
    parties.add_client(book, "Ana", "ana@example.org", "standard", "ana")
    a = plan_one(book, "2026-12-01T10:00")
    plan_one(book, "2026-12-08T10:00")
    # The program shrinks to 1: December is now over the limit, yet a move within it works.
    book = make_book(programs={"standard": {"monthly_limit": 1}})
    moved = move(book, a.id or 0, "2026-12-02T11:00")
    assert moved.start == at("2026-12-02T11:00")


def test_move_into_full_month_is_refused_and_changes_nothing(book: Book) -> None:
    plan_one(book, "2027-01-05T10:00")
    plan_one(book, "2027-01-12T10:00")
    a = plan_one(book, "2026-12-01T10:00")
    before = snapshot(book)
    err = refused("monthly_limit", move, book, a.id or 0, "2027-01-19T10:00")
    assert err.details["month"] == "2027-01"
    assert snapshot(book) == before
    assert views.show(book, a.id or 0)["start"].startswith("2026-12-01T10:00")


def test_group_session_checks_each_client(book: Book) -> None:
    plan_one(book, "2026-12-01T10:00", clients=("cy",))
    before = snapshot(book)
    err = refused("monthly_limit", plan, book, "2026-12-02T10:00", clients=("ana", "cy"))
    assert err.details["client"] == "cy"
    assert snapshot(book) == before
    group = plan_one(book, "2026-12-02T10:00", clients=("ana", "ben"))
    shown = views.show(book, group.id or 0)
    assert set(shown["month_positions"]) == {"ana", "ben"}


def test_override_does_not_override_the_limit(book: Book) -> None:
    plan_one(book, "2026-12-01T10:00", clients=("cy",))
    refused(
        "monthly_limit", plan, book, "2026-12-05T10:00", clients=("cy",), override_availability=True
    )


# --- rule 2: availability ---------------------------------------------------------------


def test_outside_working_hours_is_refused_unless_overridden(book: Book) -> None:
    before = snapshot(book)
    err = refused("unavailable", plan, book, "2026-12-05T10:00")  # a Saturday
    assert "outside working hours" in err.message
    refused("unavailable", plan, book, "2026-12-01T16:30")  # ends after 17:00
    assert snapshot(book) == before
    plan_one(book, "2026-12-05T10:00", override_availability=True)


def test_overlapping_sessions_are_refused(book: Book) -> None:
    first = plan_one(book, "2026-12-01T10:00")
    err = refused("unavailable", plan, book, "2026-12-01T10:30", clients=("ben",))
    assert f"session #{first.id}" in err.message
    plan_one(book, "2026-12-01T11:00", clients=("ben",))  # back to back is fine


def test_closure_blocks_planning_even_with_override(book: Book) -> None:
    add_closure(
        book,
        parse_date("2026-12-24"),
        parse_date("2026-12-26"),
        "Holiday",
        None,
        ClosureMode.CANCEL_ONLY,
    )
    refused("closure", plan, book, "2026-12-24T10:00", override_availability=True)
    plan_one(book, "2026-12-23T10:00")


def test_closure_preview_then_cancel(book: Book) -> None:
    s = plan_one(book, "2026-12-02T10:00")
    other = plan_one(book, "2026-12-02T10:00", clients=("ben",), coach="sam")
    before = snapshot(book)
    preview = add_closure(
        book,
        parse_date("2026-12-02"),
        parse_date("2026-12-02"),
        "Snow",
        "maia",
        ClosureMode.DRY_RUN,
    )
    assert [x.id for x in preview.affected] == [s.id]
    assert snapshot(book) == before
    done = add_closure(
        book,
        parse_date("2026-12-02"),
        parse_date("2026-12-02"),
        "Snow",
        "maia",
        ClosureMode.CANCEL_ONLY,
    )
    assert [x.status for x in done.affected] == [Status.CANCELLED]
    assert views.show(book, other.id or 0)["status"] == "requested"


# --- rule 3: invitations and edits ------------------------------------------------------


def test_edit_by_other_side_must_be_accepted_again(book: Book) -> None:
    s = plan_one(book, "2026-12-01T10:00")
    s = planning.answer(book, s.id or 0, Actor.CLIENT, accept=True)
    assert (s.status, s.sequence) == (Status.SCHEDULED, 1)  # TENTATIVE -> CONFIRMED
    moved = move(book, s.id or 0, "2026-12-02T10:00", by=Actor.CLIENT)
    assert (moved.status, moved.awaiting, moved.sequence) == (Status.REQUESTED, Side.PRACTICE, 2)
    refused("not_awaiting", planning.answer, book, s.id or 0, Actor.CLIENT, True)
    assert planning.answer(book, s.id or 0, Actor.COACH, True).status is Status.SCHEDULED


def test_client_requested_edit_is_confirmed_at_once(book: Book) -> None:
    s = plan_one(book, "2026-12-01T10:00")
    moved = move(book, s.id or 0, "2026-12-03T10:00", client_requested=True)
    assert moved.status is Status.SCHEDULED and moved.awaiting is None


def test_cancelled_session_cannot_be_moved(book: Book) -> None:
    s = plan_one(book, "2026-12-01T10:00")
    planning.cancel(book, s.id or 0, Actor.ADMIN)
    refused("not_open", move, book, s.id or 0, "2026-12-02T10:00")


# --- series -------------------------------------------------------------------------------


def weekly(
    days: tuple[int, ...] = (),
    count: int | None = None,
    until: str | None = None,
    repeat: str = "weekly",
) -> SeriesSpec:
    return SeriesSpec(repeat, days, count, parse_date(until) if until else None)


def test_series_shares_one_uid_and_counts_the_first(book: Book) -> None:
    done = plan(book, "2027-03-01T10:00", clients=("dee",), series=weekly((0, 2), count=4))
    assert [s.start.astimezone(at("2027-03-01T10:00").tzinfo).day for s in done] == [1, 3, 8, 10]
    assert len({s.uid for s in done}) == 1 and len({s.series_id for s in done}) == 1
    assert all(s.recurrence_id == s.start for s in done)


def test_series_over_the_limit_is_refused_whole_naming_occurrences(book: Book) -> None:
    before = snapshot(book)
    err = refused("monthly_limit", plan, book, "2026-12-01T10:00", series=weekly(count=4))
    assert len(err.details["occurrences"]) == 2
    assert "refused occurrences" in err.message
    assert snapshot(book) == before


def test_weekly_series_keeps_wall_clock_time_across_dst(book: Book) -> None:
    done = plan(
        book,
        "2027-03-22T10:00",
        clients=("ben",),
        series=weekly(until="2027-04-05"),
        override_availability=True,
    )
    local = [views.show(book, s.id or 0)["start"] for s in done]
    assert local == [
        "2027-03-22T10:00:00+00:00",
        "2027-03-29T10:00:00+01:00",
        "2027-04-05T10:00:00+01:00",
    ]


def test_cancel_this_and_following(book: Book) -> None:
    done = plan(book, "2027-03-01T10:00", clients=("dee",), series=weekly(count=4))
    cancelled = planning.cancel(book, done[2].id or 0, Actor.ADMIN, "moving away", following=True)
    assert [c.id for c in cancelled] == [done[2].id, done[3].id]
    kept = views.show(book, done[1].id or 0)
    assert kept["status"] == "requested"
    assert views.show(book, done[3].id or 0)["cancel_reason"] == "moving away"


def test_following_needs_a_series(book: Book) -> None:
    s = plan_one(book, "2026-12-01T10:00")
    with pytest.raises(UserError):
        planning.cancel(book, s.id or 0, Actor.ADMIN, following=True)


# --- defaults, slots, audit ----------------------------------------------------------------


def test_default_start_is_first_free_slot_in_first_month_with_room(book: Book) -> None:
    plan_one(book, "2026-11-23T09:00", clients=("cy",))
    chosen = plan(book, None, clients=("cy",))[0]
    assert views.show(book, chosen.id or 0)["start"] == "2026-12-01T09:00:00+00:00"
    free = plan(book, None, clients=("ana",))[0]
    assert free.start == at("2026-11-23T10:00")  # 09:00 is taken by cy


def test_slots_respect_busy_time_and_the_limit(book: Book) -> None:
    plan_one(book, "2026-12-01T09:00", clients=("ben",))
    found = views.slots(book, "maia", "ana", "2026-12", timedelta(minutes=60))
    starts = [s["start"] for s in found["slots"]]
    assert starts[0] == "2026-12-01T10:00:00+00:00"
    assert "2026-12-01T09:00:00+00:00" not in starts
    plan_one(book, "2026-12-02T10:00", clients=("cy",))
    refused("monthly_limit", views.slots, book, "maia", "cy", "2026-12", None)
    assert views.slots(book, "maia", "cy", None, None)["month"] == "2026-11"


def test_audit_trail_and_change_log(book: Book) -> None:
    s = plan_one(book, "2026-12-01T10:00")
    move(book, s.id or 0, "2026-12-02T10:00", by=Actor.COACH)
    trail = views.show(book, s.id or 0)["audit"]
    assert [e["action"] for e in trail] == ["planned", "moved"]
    assert trail[1]["actor"] == "coach" and trail[1]["origin"] == "test"
    assert trail[1]["changes"]["from"][0].startswith("2026-12-01T10:00")


def test_unknown_parties_are_user_errors(book: Book) -> None:
    with pytest.raises(NotFound):
        plan(book, "2026-12-01T10:00", clients=("nobody",))
    with pytest.raises(NotFound):
        plan(book, "2026-12-01T10:00", coach="ghost")
    with pytest.raises(UserError):
        plan(book, "2026-12-01T10:00", minutes=0)
