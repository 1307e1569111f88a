"""Money arithmetic of completion types: Decimal, rounded half up to cents, never floats."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from calbridge.core.money import FULL, NOTHING, Modifier, ModifierKind, cents, parse_amount, price
from calbridge.core.outcomes import BUILTIN, Broad, CompletionType, check_label

FEE, WAGE = Decimal("80.00"), Decimal("45.00")
BUILTINS = {t.label: t for t in BUILTIN}


@pytest.mark.parametrize(
    ("label", "cost", "wage"),
    [
        ("completed", "80.00", "45.00"),  # charged and paid in full
        ("missed", "80.00", "45.00"),  # charged and paid in full
        ("cancelled", "0.00", "0.00"),  # nothing charged or paid
        ("non-billable", "0.00", "45.00"),  # not billed; the coach is paid
    ],
)
def test_builtin_types(label: str, cost: str, wage: str) -> None:
    money = BUILTINS[label].price(FEE, WAGE)
    assert (money.cost, money.wage) == (Decimal(cost), Decimal(wage))
    assert isinstance(money.cost, Decimal) and money.cost.as_tuple().exponent == -2


def test_percent_type_rounds_half_up_to_cents() -> None:
    third = CompletionType(
        "third", "", Broad.MISSED, Modifier.percent("33.333"), Modifier.percent("12.5")
    )
    # 80.00 * 33.333 % = 26.6664 -> 26.67; 45.00 * 12.5 % = 5.625 -> 5.63 (half up, not even)
    money = third.price(FEE, WAGE)
    assert (money.cost, money.wage) == (Decimal("26.67"), Decimal("5.63"))
    half = CompletionType("half", "", Broad.MISSED, Modifier.percent(50), Modifier.percent(50))
    odd = half.price(Decimal("0.05"), Decimal("0.03"))  # 0.025 -> 0.03, 0.015 -> 0.02
    assert (odd.cost, odd.wage) == (Decimal("0.03"), Decimal("0.02"))


def test_fixed_type_ignores_the_service() -> None:
    flat = CompletionType("flat", "", Broad.COMPLETED, Modifier.fixed("25.5"), Modifier.fixed("10"))
    for fee in (Decimal("80.00"), Decimal("0.00"), Decimal("999.99")):
        money = flat.price(fee, WAGE)
        assert (money.cost, money.wage) == (Decimal("25.50"), Decimal("10.00"))
    assert not flat.needs_service
    mixed = CompletionType("mixed", "", Broad.MISSED, Modifier.fixed("15"), Modifier.percent(40))
    assert mixed.price(FEE, WAGE).wage == Decimal("18.00") and mixed.needs_service


def test_amounts_are_parsed_from_text_exactly() -> None:
    assert parse_amount("45.5") == Decimal("45.50")
    assert parse_amount("0.10") + parse_amount("0.20") == Decimal("0.30")  # no float error
    for bad in ("-1", "12.345", "abc", "NaN", "inf", "", "9" * 40):
        with pytest.raises(ValueError, match="amount"):
            parse_amount(bad)
    with pytest.raises(ValueError, match="between 0 and 1000"):
        Modifier.percent("1500")


def test_labels_are_at_most_15_characters() -> None:
    assert check_label(" Half fee ") == "Half fee"
    assert check_label("x" * 15) == "x" * 15
    with pytest.raises(ValueError, match="16 characters; at most 15"):
        check_label("x" * 16)
    with pytest.raises(ValueError, match="needs a label"):
        check_label("  ")


@given(
    fee=st.decimals(min_value=0, max_value=10_000, places=2),
    pct=st.decimals(min_value=0, max_value=200, places=3),
)
def test_percent_equals_exact_rational_rounded_half_up(fee: Decimal, pct: Decimal) -> None:
    got = Modifier(ModifierKind.PERCENT, pct).apply(fee)
    # Independent: integer arithmetic in thousandths of a cent, then half up.
    exact_millicents = int(fee * 100) * int(pct * 1000)  # cents * pct * 1000
    whole, rest = divmod(exact_millicents, 100_000)  # 100 % * 1000
    expected = whole + (1 if rest * 2 >= 100_000 else 0)
    assert got == Decimal(expected) / 100
    assert got == cents(got)


def test_full_and_nothing() -> None:
    assert price(FULL, NOTHING, FEE, WAGE).cost == FEE
    assert price(FULL, NOTHING, FEE, WAGE).wage == Decimal("0.00")
