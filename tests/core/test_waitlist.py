"""Who on the waitlist gets a freed time (core/waitlist.py): pure, no book."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from calbridge.core.waitlist import (
    OFFER_TO,
    Wish,
    assign,
    choose,
    fits,
    parse_days,
    parse_window,
    show_days,
    show_window,
)
from calbridge.errors import UserError

LONDON = ZoneInfo("Europe/London")
T0 = datetime(2026, 11, 1, tzinfo=UTC)
MON_10 = (datetime(2026, 11, 23, 10, tzinfo=UTC), datetime(2026, 11, 23, 11, tzinfo=UTC))


def wish(n: int, client: str, coach: str = "maia", **kw: object) -> Wish:
    return Wish(n, client, coach, T0 + timedelta(hours=n), **kw)  # type: ignore[arg-type]


def test_days_and_windows_parse_and_show_back() -> None:
    assert parse_days("mon,wed") == frozenset({0, 2})
    assert parse_days(" Monday , FRI ") == frozenset({0, 4})
    assert show_days(parse_days("sun,mon")) == "mon,sun"
    assert parse_window("09:00-12:30") == (time(9), time(12, 30))
    assert show_window(parse_window("9:00-24:00")) == "09:00-24:00"


@pytest.mark.parametrize("text", ["", "mon,,wed", "someday", "mon;wed", "8"])
def test_bad_days_name_the_flag(text: str) -> None:
    with pytest.raises(UserError, match="--on"):
        parse_days(text)


@pytest.mark.parametrize("text", ["", "9-12", "12:00-09:00", "10:00-10:00", "25:00-26:00",
                                  "09:60-10:00", "24:30-24:45", "09:00-24:01", "x"])  # fmt: skip
def test_bad_windows_name_the_flag(text: str) -> None:
    with pytest.raises(UserError, match="--between"):
        parse_window(text)


def test_empty_waitlist_offers_nobody() -> None:
    assert choose([], "maia", MON_10, LONDON) == []
    assert assign([], "maia", [MON_10], LONDON) == []


def test_oldest_first_one_per_client_at_most_offer_to() -> None:
    wishes = [wish(5, "e"), wish(1, "a"), wish(3, "c"), wish(2, "b"), wish(4, "a"), wish(6, "f")]
    picked = choose(wishes, "maia", MON_10, LONDON)
    assert [w.client_id for w in picked] == ["a", "b", "c"][:OFFER_TO]


def test_other_coach_days_and_windows_are_skipped() -> None:
    wishes = [
        wish(1, "sam-only", coach="sam"),
        wish(2, "tuesdays", days=frozenset({1})),
        wish(3, "mornings-early", window=(time(8), time(10, 30))),  # overlaps, not inside
        wish(4, "from-10-30", window=(time(10, 30), time(12))),  # overlaps the other end
        wish(5, "mondays-10-to-11", days=frozenset({0}), window=(time(10), time(11))),
    ]
    assert [w.client_id for w in choose(wishes, "maia", MON_10, LONDON)] == ["mondays-10-to-11"]


def test_all_full_offers_nobody_and_month_is_the_times_month() -> None:
    wishes = [wish(1, "a"), wish(2, "b")]
    full = {("a", "2026-11"), ("b", "2026-11")}
    assert choose(wishes, "maia", MON_10, LONDON, full=full) == []
    assert [
        w.client_id for w in choose(wishes, "maia", MON_10, LONDON, full={("a", "2026-12")})
    ] == [
        "a",
        "b",
    ]


def test_busy_and_already_offered_clients_are_skipped() -> None:
    wishes = [wish(1, "a"), wish(2, "b"), wish(3, "c")]
    picked = choose(wishes, "maia", MON_10, LONDON, busy_clients={"a"}, before={("b", MON_10[0])})
    assert [w.client_id for w in picked] == ["c"]


def test_window_read_in_the_coachs_zone_on_a_dst_day() -> None:
    # 2026-03-29: London goes from GMT to BST at 01:00 UTC. 09:00 local is 08:00 UTC.
    nine = datetime(2026, 3, 29, 8, tzinfo=UTC)
    span = (nine, nine + timedelta(hours=1))
    morning = wish(1, "a", window=(time(9), time(10)))
    assert fits(morning, *span, LONDON)
    a_week_before = (nine - timedelta(days=7), nine - timedelta(days=7, hours=-1))
    assert not fits(morning, *a_week_before, LONDON)  # 08:00 GMT that Sunday
    assert fits(wish(2, "b", days=frozenset({6})), *span, LONDON)  # a Sunday in London


def test_a_time_up_to_midnight_fits_a_window_to_24_00() -> None:
    late = (datetime(2026, 11, 23, 23, tzinfo=UTC), datetime(2026, 11, 24, 0, tzinfo=UTC))
    assert fits(wish(1, "a", window=parse_window("22:00-24:00")), *late, LONDON)
    assert not fits(wish(1, "a", window=parse_window("22:00-23:30")), *late, LONDON)


def test_assign_spreads_clients_over_times_never_overlapping() -> None:
    wishes = [wish(1, "a"), wish(2, "b"), wish(3, "c", window=(time(14), time(17)))]
    ten, half_past = MON_10, (MON_10[0] + timedelta(minutes=30), MON_10[1] + timedelta(minutes=30))
    two = (MON_10[0] + timedelta(hours=4), MON_10[1] + timedelta(hours=4))
    out = assign(wishes, "maia", [two, half_past, ten], LONDON, count=1)
    assert [(span, [w.client_id for w in ws]) for span, ws in out] == [
        (ten, ["a"]),
        (two, ["b"]),
    ]
    out = assign(wishes, "maia", [two, ten], LONDON)
    assert [(span, [w.client_id for w in ws]) for span, ws in out] == [
        (ten, ["a", "b"]),
        (two, ["c"]),
    ]
