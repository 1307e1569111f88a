"""Money of a session: fees, wages and completion-type modifiers (pure, ``Decimal`` only).

Amounts are rounded to cents with ROUND_HALF_UP once, where a modifier is applied; floats
never enter (text and ``Decimal`` in, ``Decimal`` out).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
#: A percentage modifier above this is taken for a typo (1000 % = ten times the fee).
MAX_PERCENT = Decimal(1000)
#: An amount at or above this is taken for a typo (and would overflow cent rounding).
MAX_AMOUNT = Decimal(10) ** 9


def cents(amount: Decimal) -> Decimal:
    """``amount`` rounded to cents, half up (2.345 -> 2.35, -2.345 -> -2.35)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def parse_amount(text: str | Decimal, what: str = "amount") -> Decimal:
    """A non-negative amount with at most two decimals, from text (never a float)."""
    if isinstance(text, float):  # pragma: no cover - guarded by the types; floats lose cents
        raise TypeError("amounts are never floats")
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise ValueError(f"{what} {text!r} is not an amount like 45 or 45.50") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"{what} {text!r} must be a positive amount like 45.50")
    if value >= MAX_AMOUNT:
        raise ValueError(f"{what} {text!r} is too large: an amount is below {MAX_AMOUNT:,}")
    if value != value.quantize(CENT, rounding=ROUND_HALF_UP):
        raise ValueError(f"{what} {text!r} has more than two decimals")
    return cents(value)


def parse_percent(text: str | Decimal, what: str = "percentage") -> Decimal:
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise ValueError(f"{what} {text!r} is not a number like 50 or 12.5") from None
    if not value.is_finite() or value < 0 or value > MAX_PERCENT:
        raise ValueError(f"{what} {text!r} must be between 0 and {MAX_PERCENT}")
    return value


class ModifierKind(StrEnum):
    PERCENT = "percent"  # that share of the service's fee (or wage)
    FIXED = "fixed"  # exactly this amount, whatever the service


@dataclass(frozen=True)
class Modifier:
    kind: ModifierKind
    value: Decimal

    @classmethod
    def percent(cls, value: str | Decimal) -> Modifier:
        return cls(ModifierKind.PERCENT, parse_percent(value))

    @classmethod
    def fixed(cls, value: str | Decimal) -> Modifier:
        return cls(ModifierKind.FIXED, parse_amount(value))

    def apply(self, base: Decimal) -> Decimal:
        """What the modifier makes of ``base`` (the service's fee or wage), in cents."""
        if self.kind is ModifierKind.FIXED:
            return cents(self.value)
        return cents(base * self.value / HUNDRED)

    @property
    def needs_base(self) -> bool:
        return self.kind is ModifierKind.PERCENT

    def describe(self) -> str:
        if self.kind is ModifierKind.FIXED:
            return f"{self.value} fixed"
        return f"{self.value.normalize():f}%"


FULL = Modifier(ModifierKind.PERCENT, HUNDRED)
NOTHING = Modifier(ModifierKind.PERCENT, Decimal(0))


@dataclass(frozen=True)
class Money:
    """What one session costs its client and pays its coach."""

    cost: Decimal
    wage: Decimal


def price(client: Modifier, coach: Modifier, fee: Decimal, wage: Decimal) -> Money:
    """Apply a completion type's two modifiers to a service's fee and wage."""
    return Money(client.apply(fee), coach.apply(wage))


def total(amounts: list[Decimal]) -> Decimal:
    return cents(sum(amounts, Decimal(0)))
