"""Reports of a seeded month (and week) against totals the test works out on its own."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from book_helpers import at, plan_one
from calbridge.book import Book, parties, reports
from calbridge.book import completion_types as types
from calbridge.book.outcomes import Mode, OutcomeRequest, Selection, save
from calbridge.core.money import Modifier
from calbridge.core.outcomes import Outcome
from conftest import Clock
from outcome_helpers import outcome_book

# Service prices in integer cents, written out again here on purpose.
FEES = {"coaching": (8000, 4500), "support": (6250, 3335)}


def pct(amount: int, percent: int) -> int:
    """``percent`` % of ``amount`` cents, half up, in integers only."""
    whole, rest = divmod(amount * percent, 100)
    return whole + (1 if rest * 2 >= 100 else 0)


@dataclass
class Seed:
    coach: str
    start: str
    clients: tuple[str, ...]
    minutes: int
    how: str  # complete | late-cancel | cancel
    type: str | None = None
    outcome: Outcome | None = None
    service: str = "coaching"
    cost_override: str | None = None
    direct: bool = True
    held: bool = True  # counts as support time
    client_pct: int = 100
    coach_pct: int = 100

    def cost_cents(self) -> int:
        if self.cost_override:
            return int(Decimal(self.cost_override) * 100)
        return pct(FEES[self.service][0], self.client_pct)

    def wage_cents(self) -> int:
        return pct(FEES[self.service][1], self.coach_pct)


SEEDS = [
    Seed("maia", "2026-12-07T10:00", ("dee",), 60, "complete"),
    Seed("maia", "2026-12-08T10:00", ("dee",), 90, "complete", "missed", held=False),
    Seed(
        "maia",
        "2026-12-09T10:00",
        ("ana",),
        60,
        "complete",
        "Half",
        service="support",
        client_pct=50,
        coach_pct=40,
    ),
    Seed("maia", "2026-12-10T14:00", ("ana", "dee"), 45, "complete", cost_override="70.00"),
    Seed("maia", "2026-12-11T10:00", ("ben",), 60, "late-cancel", held=False),
    Seed("maia", "2026-12-14T10:00", ("ben",), 60, "cancel", held=False, client_pct=0, coach_pct=0),
    Seed(
        "maia",
        "2026-12-15T10:00",
        ("dee",),
        30,
        "complete",
        outcome=Outcome.COMPLETED,
        direct=False,
    ),
    Seed("sam", "2026-12-30T17:00", ("eve",), 60, "complete"),
    # 20:00 in New York on 31 December is 1 January in UTC: still December for Sam.
    Seed("sam", "2026-12-31T20:00", ("eve",), 60, "complete", service="support"),
]
LATER = Seed("maia", "2027-01-04T10:00", ("dee",), 60, "complete")  # another month


def _seed(book: Book, clock: Clock) -> dict[int, Seed]:
    parties.add_client(book, "Eve Stone", "eve@example.org", "intensive", "eve")
    types.add(book, "Half", "half", "completed", Modifier.percent(50), Modifier.percent(40))
    ids: dict[int, Seed] = {}
    for seed in [*SEEDS, LATER]:
        session = plan_one(
            book,
            seed.start,
            clients=seed.clients,
            minutes=seed.minutes,
            coach=seed.coach,
            direct=seed.direct,
            override_availability=True,
        )
        ids[session.id or 0] = seed
    clock.now = at("2026-12-10T20:00")  # 14 h before the 11th, days before the 14th
    for sid, seed in ids.items():
        if seed.how != "complete":
            (change,) = save(book, Selection(ids=[sid]), OutcomeRequest(), Mode.CANCEL)
            want = Outcome.LATE_CANCELLATION if seed.how == "late-cancel" else Outcome.CANCELLED
            assert change.outcome is want
    clock.now = at("2027-01-10T12:00")
    for sid, seed in ids.items():
        if seed.how == "complete":
            req = OutcomeRequest(
                outcome=seed.outcome,
                type_label=seed.type or ("completed" if seed.outcome is None else None),
                service=seed.service,
                cost=Decimal(seed.cost_override) if seed.cost_override else None,
            )
            save(book, Selection(ids=[sid]), req, Mode.COMPLETE)
    return ids


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


@pytest.fixture
def seeded(make_book: Callable[..., Book], clock: Clock) -> Book:
    book = outcome_book(make_book)
    _seed(book, clock)
    return book


def _by(rows: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    return {r[key]: r for r in rows}


def test_month_reports_match_independent_totals(seeded: Book) -> None:
    cost: dict[str, int] = defaultdict(int)
    wage: dict[str, int] = defaultdict(int)
    minutes: dict[str, int] = defaultdict(int)
    counts: dict[str, int] = defaultdict(int)
    for seed in SEEDS:
        for client in seed.clients:
            cost[client] += seed.cost_cents()
            counts[client] += 1
        wage[seed.coach] += seed.wage_cents()
        minutes[seed.coach] += seed.minutes if seed.held else 0
    period = reports.month_period("2026-12")

    balances = reports.report(seeded, "balances", period)
    assert {k: v["cost"] for k, v in _by(balances["rows"], "client").items()} == {
        k: _money(v) for k, v in cost.items()
    }
    assert {k: v["sessions"] for k, v in _by(balances["rows"], "client").items()} == counts
    assert balances["total"] == {"cost": _money(sum(cost.values())), "currency": "EUR"}

    wages = reports.report(seeded, "wages", period)
    assert {k: v["wage"] for k, v in _by(wages["rows"], "coach").items()} == {
        k: _money(v) for k, v in wage.items()
    }
    assert wages["total"]["wage"] == _money(sum(wage.values()))

    hours = reports.report(seeded, "hours", period)
    assert {k: v["minutes"] for k, v in _by(hours["rows"], "coach").items()} == minutes
    assert hours["total"]["minutes"] == sum(minutes.values())
    assert hours["total"]["hours"] == f"{Decimal(sum(minutes.values())) / 60:.2f}"

    only_sam = reports.report(seeded, "wages", period, "sam")
    assert [r["coach"] for r in only_sam["rows"]] == ["sam"]


def test_week_report_and_the_next_month(seeded: Book) -> None:
    week = reports.week_period(at("2026-12-09T12:00").date())
    assert (week.label, str(week.first), str(week.last)) == (
        "2026-W50",
        "2026-12-07",
        "2026-12-13",
    )
    in_week = [s for s in SEEDS if "2026-12-07" <= s.start[:10] <= "2026-12-13"]
    hours = reports.report(seeded, "hours", week, "maia")
    assert hours["total"]["minutes"] == sum(s.minutes for s in in_week if s.held)
    january = reports.report(seeded, "balances", reports.month_period("2027-01"))
    assert january["rows"] == [
        {
            "client": "dee",
            "name": "Dee Roy",
            "sessions": 1,
            "cost": _money(LATER.cost_cents()),
            "currency": "EUR",
        }
    ]
