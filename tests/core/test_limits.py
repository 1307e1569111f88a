"""Unit tests of calbridge.core.limits: the monthly limit (PRODUCT rule 1)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calbridge.core.limits import (
    SEARCH_MONTHS,
    Booked,
    ClientMonths,
    Placement,
    check,
    position,
    refusals,
)
from calbridge.core.timeutil import add_months
from calbridge.errors import Refused

LONDON = ZoneInfo("Europe/London")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def client(limit: int, **booked: Sequence[Booked]) -> ClientMonths:
    """``client(2, m2026_03=[...])`` -> ClientMonths with month keys ``2026-03``."""
    return ClientMonths(
        "ana",
        limit,
        {key[1:].replace("_", "-"): list(value) for key, value in booked.items()},
    )


def new(month: str, day: int = 15, hour: int = 10) -> Placement:
    year, mon = (int(p) for p in month.split("-"))
    return Placement(month, utc(year, mon, day, hour))


# --- count / next_month_with_room ---------------------------------------------------------


def test_count_and_ignore() -> None:
    c = client(2, m2026_03=[Booked(1, utc(2026, 3, 2, 10)), Booked(2, utc(2026, 3, 9, 10))])
    assert c.count("2026-03") == 2
    assert c.count("2026-03", ignore=[1]) == 1
    assert c.count("2026-03", ignore=(1, 2)) == 0
    assert c.count("2026-03", ignore=[99]) == 2
    assert c.count("2026-04") == 0


def test_next_month_with_room_skips_full_months_across_year_end() -> None:
    c = client(
        1,
        m2026_11=[Booked(1, utc(2026, 11, 2, 10))],
        m2026_12=[Booked(2, utc(2026, 12, 7, 10))],
    )
    assert c.next_month_with_room("2026-10") == "2026-10"
    assert c.next_month_with_room("2026-11") == "2027-01"
    assert c.next_month_with_room("2026-12") == "2027-01"


def test_next_month_with_room_counts_extra() -> None:
    c = client(2, m2026_03=[Booked(1, utc(2026, 3, 2, 10))])
    assert c.next_month_with_room("2026-03") == "2026-03"
    assert c.next_month_with_room("2026-03", {"2026-03": 1}) == "2026-04"
    assert c.next_month_with_room("2026-03", {"2026-03": 1, "2026-04": 2}) == "2026-05"


def test_next_month_with_room_gives_up_after_search_window() -> None:
    full = {add_months("2026-01", i): [Booked(i, utc(2026, 1, 1))] for i in range(SEARCH_MONTHS)}
    c = ClientMonths("ana", 1, full)
    assert c.next_month_with_room("2026-01") is None
    assert c.next_month_with_room("2026-02") == add_months("2026-01", SEARCH_MONTHS)


def test_limit_zero_has_no_month_with_room() -> None:
    c = client(0)
    assert c.next_month_with_room("2026-03") is None
    assert refusals(c, [new("2026-03")]) == [new("2026-03")]


# --- refusals ---------------------------------------------------------------------------


def test_refusals_allows_up_to_the_limit() -> None:
    c = client(2, m2026_03=[Booked(1, utc(2026, 3, 2, 10))])
    assert refusals(c, [new("2026-03")]) == []
    assert refusals(c, [new("2026-04")]) == []


def test_refusals_refuses_full_month() -> None:
    c = client(2, m2026_03=[Booked(1, utc(2026, 3, 2, 10)), Booked(2, utc(2026, 3, 9, 10))])
    place = new("2026-03", 16)
    assert refusals(c, [place]) == [place]


def test_refusals_counts_a_series_cumulatively() -> None:
    c = client(2, m2026_03=[Booked(1, utc(2026, 3, 2, 10))])
    weekly = [new("2026-03", d) for d in (9, 16, 23, 30)] + [new("2026-04", d) for d in (6, 13)]
    over = refusals(c, weekly)
    # March has room for one more: the 9th; 16, 23 and 30 are refused; April takes two.
    assert over == weekly[1:4]


def test_refusals_series_filling_an_empty_month_exactly() -> None:
    c = client(4)
    weekly = [new("2026-03", d) for d in (2, 9, 16, 23, 30)]
    assert refusals(c, weekly) == [weekly[4]]


def test_refusals_move_within_own_month_always_allowed() -> None:
    c = client(2, m2026_03=[Booked(1, utc(2026, 3, 2, 10)), Booked(2, utc(2026, 3, 9, 10))])
    move = Placement("2026-03", utc(2026, 3, 20, 10), moving=1, from_month="2026-03")
    assert refusals(c, [move]) == []


def test_refusals_move_within_own_month_allowed_even_over_the_limit() -> None:
    # The limit was lowered after booking: March holds three sessions with a limit of 1.
    c = client(
        1,
        m2026_03=[Booked(i, utc(2026, 3, i, 10)) for i in (1, 2, 3)],
    )
    move = Placement("2026-03", utc(2026, 3, 27, 10), moving=2, from_month="2026-03")
    assert refusals(c, [move]) == []


def test_refusals_move_within_own_month_allowed_with_limit_zero() -> None:
    c = client(0, m2026_03=[Booked(7, utc(2026, 3, 3, 10))])
    move = Placement("2026-03", utc(2026, 3, 31, 10), moving=7, from_month="2026-03")
    assert refusals(c, [move]) == []


def test_refusals_move_to_another_month_counts() -> None:
    c = client(
        1,
        m2026_03=[Booked(1, utc(2026, 3, 2, 10))],
        m2026_04=[Booked(2, utc(2026, 4, 6, 10))],
    )
    to_full = Placement("2026-04", utc(2026, 4, 20, 10), moving=1, from_month="2026-03")
    to_free = Placement("2026-05", utc(2026, 5, 4, 10), moving=1, from_month="2026-03")
    assert refusals(c, [to_full]) == [to_full]
    assert refusals(c, [to_free]) == []


def test_refusals_move_across_year_boundary_counts() -> None:
    c = client(1, m2027_01=[Booked(5, utc(2027, 1, 4, 10))], m2026_12=[Booked(6, utc(2026, 12, 7))])
    move = Placement("2027-01", utc(2027, 1, 11, 10), moving=6, from_month="2026-12")
    assert refusals(c, [move]) == [move]


def test_refusals_limit_zero_refuses_every_new_session() -> None:
    c = client(0)
    places = [new("2026-03"), new("2026-04"), new("2028-02", 29)]
    assert refusals(c, places) == places


def test_refusals_move_into_other_month_with_limit_zero_refused() -> None:
    c = client(0, m2026_03=[Booked(7, utc(2026, 3, 3, 10))])
    move = Placement("2026-04", utc(2026, 4, 7, 10), moving=7, from_month="2026-03")
    assert refusals(c, [move]) == [move]


def test_refusals_keeps_input_order() -> None:
    c = client(1, m2026_05=[Booked(1, utc(2026, 5, 4))])
    places = [new("2026-06", 1), new("2026-05", 11), new("2026-06", 8), new("2026-05", 18)]
    assert refusals(c, places) == [places[1], places[2], places[3]]


# Property: whatever is placed, no month ends up above the limit (unless it already was,
# and then only because of moves within it), and nothing is refused that had room.

month_keys = st.sampled_from(["2026-11", "2026-12", "2027-01", "2027-02"])


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[ClientMonths, list[Placement]]:
    limit = draw(st.integers(min_value=0, max_value=4))
    booked_months = draw(st.lists(month_keys, max_size=8))
    booked: dict[str, list[Booked]] = {}
    where: dict[int, str] = {}
    for sid, month in enumerate(booked_months, start=1):
        year, mon = (int(p) for p in month.split("-"))
        booked.setdefault(month, []).append(Booked(sid, utc(year, mon, 1 + sid, 9)))
        where[sid] = month
    movers = draw(st.lists(st.sampled_from(sorted(where)), unique=True) if where else st.just([]))
    placements: list[Placement] = [
        Placement(m, utc(2026, 1, 1), moving=sid, from_month=where[sid])
        for sid, m in zip(
            movers,
            draw(st.lists(month_keys, min_size=len(movers), max_size=len(movers))),
            strict=True,
        )
    ]
    placements += [Placement(m, utc(2026, 1, 1)) for m in draw(st.lists(month_keys, max_size=10))]
    order = draw(st.permutations(placements))
    return ClientMonths("ana", limit, booked), list(order)


@settings(max_examples=300)
@given(scenarios())
def test_refusals_never_let_a_month_exceed_the_limit(
    scenario: tuple[ClientMonths, list[Placement]],
) -> None:
    c, placements = scenario
    over = refusals(c, placements)
    assert all(any(p is o for p in placements) for o in over)
    accepted = [p for p in placements if not any(p is o for o in over)]
    before = {m: c.count(m) for m in c.booked}
    after = dict(before)
    for place in accepted:
        if place.moving is not None:
            after[place.from_month] -= 1  # type: ignore[index]
        after[place.month] = after.get(place.month, 0) + 1
    for month, total in after.items():
        assert total <= max(c.limit, before.get(month, 0))
        if before.get(month, 0) >= c.limit:
            # A month already at or over the limit gains nothing from outside.
            assert total <= before.get(month, 0)
    # Moves within their own month are never refused.
    assert not [o for o in over if o.moving is not None and o.from_month == o.month]


@given(scenarios())
def test_refusals_of_new_sessions_match_room_left(
    scenario: tuple[ClientMonths, list[Placement]],
) -> None:
    c, placements = scenario
    fresh = [p for p in placements if p.moving is None]
    over = refusals(c, fresh)
    for month in {p.month for p in fresh}:
        wanted = sum(1 for p in fresh if p.month == month)
        room = max(0, c.limit - c.count(month))
        assert sum(1 for p in over if p.month == month) == max(0, wanted - room)


# --- check ------------------------------------------------------------------------------


def test_check_passes_silently_with_room() -> None:
    c = client(2, m2026_03=[Booked(1, utc(2026, 3, 2, 10))])
    assert check(c, [new("2026-03")], LONDON) is None
    assert check(c, [], LONDON) is None


def test_check_refuses_naming_month_sessions_and_next_month() -> None:
    c = client(
        2,
        m2026_03=[Booked(12, utc(2026, 3, 23, 10)), Booked(4, utc(2026, 3, 2, 9, 30))],
        m2026_04=[Booked(20, utc(2026, 4, 6, 9)), Booked(21, utc(2026, 4, 13, 9))],
    )
    with pytest.raises(Refused) as caught:
        check(c, [new("2026-03", 16)], LONDON)
    error = caught.value
    assert error.code == "monthly_limit"
    assert error.exit_code == 1
    assert error.details["month"] == "2026-03"
    assert error.details["sessions"] == [4, 12]  # ordered by start, not by id or input
    assert error.details["next_month"] == "2026-05"
    assert error.details["limit"] == 2
    assert error.details["client"] == "ana"
    assert error.details["occurrences"] == [utc(2026, 3, 16, 10).isoformat()]
    message = error.message
    assert "2026-03" in message
    assert "#4" in message and "#12" in message
    assert message.index("#4") < message.index("#12")
    assert "Mon 2026-03-02 09:30" in message  # shown in the given zone
    assert "2026-05" in message
    assert "2 of 2" in message
    assert error.as_json()["error"]["code"] == "monthly_limit"
    assert error.as_json()["error"]["next_month"] == "2026-05"


def test_check_shows_times_in_zone_across_dst() -> None:
    c = client(1, m2026_04=[Booked(3, utc(2026, 4, 1, 9, 0))])
    with pytest.raises(Refused) as caught:
        check(c, [new("2026-04")], LONDON)
    assert "#3 on Wed 2026-04-01 10:00" in caught.value.message  # BST


def test_check_next_month_across_year_end() -> None:
    c = client(1, m2026_12=[Booked(8, utc(2026, 12, 1, 10))])
    with pytest.raises(Refused) as caught:
        check(c, [new("2026-12", 14)], LONDON)
    assert caught.value.details["next_month"] == "2027-01"
    assert "2027-01" in caught.value.message


def test_check_limit_zero_has_no_next_month() -> None:
    c = client(0)
    with pytest.raises(Refused) as caught:
        check(c, [new("2026-03")], LONDON)
    error = caught.value
    assert error.details["month"] == "2026-03"
    assert error.details["sessions"] == []
    assert error.details["next_month"] is None
    assert error.details["limit"] == 0
    assert "2026-03" in error.message
    assert "no month with room" in error.message


def test_check_move_within_own_full_month_is_allowed() -> None:
    c = client(1, m2026_03=[Booked(1, utc(2026, 3, 2, 10)), Booked(2, utc(2026, 3, 3, 10))])
    move = Placement("2026-03", utc(2026, 3, 30, 10), moving=2, from_month="2026-03")
    assert check(c, [move], LONDON) is None


def test_check_move_into_full_month_is_refused() -> None:
    c = client(
        1,
        m2026_03=[Booked(1, utc(2026, 3, 2, 10))],
        m2026_04=[Booked(2, utc(2026, 4, 6, 10))],
    )
    move = Placement("2026-04", utc(2026, 4, 20, 10), moving=1, from_month="2026-03")
    with pytest.raises(Refused) as caught:
        check(c, [move], LONDON)
    assert caught.value.details["month"] == "2026-04"
    assert caught.value.details["sessions"] == [2]
    assert caught.value.details["next_month"] == "2026-05"


def test_check_series_names_refused_occurrences_and_first_full_month() -> None:
    c = client(1, m2026_04=[Booked(9, utc(2026, 4, 1, 9))])
    series = [new("2026-03", 30, 9), new("2026-04", 6, 9), new("2026-04", 13, 9)]
    with pytest.raises(Refused) as caught:
        check(c, series, LONDON)
    error = caught.value
    assert error.details["month"] == "2026-04"
    assert error.details["sessions"] == [9]
    assert error.details["occurrences"] == [p.start.isoformat() for p in series[1:]]
    assert error.details["next_month"] == "2026-05"
    assert "Mon 2026-04-06 10:00" in error.message
    assert "Mon 2026-04-13 10:00" in error.message


def test_check_series_filling_a_month_points_to_a_later_month() -> None:
    # March has room for one more; a weekly series takes it and then overflows. The month
    # that is full is March, so the "next month with room" must not be March itself.
    c = client(2, m2026_03=[Booked(1, utc(2026, 3, 2, 10))])
    series = [new("2026-03", 16), new("2026-03", 23)]
    with pytest.raises(Refused) as caught:
        check(c, series, LONDON)
    error = caught.value
    assert error.details["month"] == "2026-03"
    assert error.details["occurrences"] == [series[1].start.isoformat()]
    assert error.details["next_month"] == "2026-04"
    assert "next month with room: 2026-04" in error.message


# --- position ---------------------------------------------------------------------------


def test_position_ranks_by_start() -> None:
    c = client(
        4,
        m2026_03=[
            Booked(30, utc(2026, 3, 20, 10)),
            Booked(10, utc(2026, 3, 2, 10)),
            Booked(20, utc(2026, 3, 9, 8)),
        ],
    )
    assert position(c, "2026-03", 10) == 1
    assert position(c, "2026-03", 20) == 2
    assert position(c, "2026-03", 30) == 3
    assert position(c, "2026-03", 99) is None
    assert position(c, "2026-04", 10) is None


def test_position_ties_broken_by_id() -> None:
    same = utc(2026, 3, 2, 10)
    c = client(4, m2026_03=[Booked(8, same), Booked(3, same)])
    assert position(c, "2026-03", 3) == 1
    assert position(c, "2026-03", 8) == 2
