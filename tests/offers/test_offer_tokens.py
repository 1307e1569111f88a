"""Signed offer tokens and feed tokens: forged, expired, tampered and genuine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from calbridge.core.tokens import (
    REJECT,
    BadToken,
    ExpiredToken,
    feed_token,
    feed_token_ok,
    sign_offer,
    verify_offer,
)

SECRET = b"s" * 32
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=24)


def test_genuine_token_names_offer_choice_and_expiry() -> None:
    token = sign_offer(SECRET, 17, "2", LATER)
    found = verify_offer(SECRET, token, NOW)
    assert (found.offer_id, found.choice, found.expires) == (17, "2", LATER)
    assert verify_offer(SECRET, sign_offer(SECRET, 17, REJECT, LATER), NOW).choice == REJECT


def test_expired_token_is_refused_at_and_after_expiry() -> None:
    token = sign_offer(SECRET, 1, "1", LATER)
    verify_offer(SECRET, token, LATER - timedelta(seconds=1))
    for when in (LATER, LATER + timedelta(days=3)):
        with pytest.raises(ExpiredToken):
            verify_offer(SECRET, token, when)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t.replace(".1.", ".2.", 1),  # another choice
        lambda t: t.replace(".1.", ".reject.", 1),  # the reject link from an accept link
        lambda t: "18" + t[2:],  # another offer
        lambda t: t.replace(str(int(LATER.timestamp())), str(int(LATER.timestamp()) + 86400)),
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # the signature itself
    ],
)
def test_tampered_token_is_refused(tamper: object) -> None:
    token = sign_offer(SECRET, 17, "1", LATER)
    changed = tamper(token)  # type: ignore[operator]
    assert changed != token
    with pytest.raises(BadToken):
        verify_offer(SECRET, changed, NOW)


def test_token_of_another_secret_is_forged() -> None:
    token = sign_offer(b"x" * 32, 17, "1", LATER)
    with pytest.raises(BadToken):
        verify_offer(SECRET, token, NOW)


@given(st.text(max_size=120))
def test_arbitrary_text_is_never_accepted(text: str) -> None:
    with pytest.raises(BadToken):
        verify_offer(SECRET, text, NOW)


def test_choice_must_be_a_position_or_reject() -> None:
    for bad in ("0", "x", "1000", ""):
        with pytest.raises(ValueError):
            sign_offer(SECRET, 1, bad, LATER)


def test_feed_tokens_differ_per_kind_and_id_and_check_in_constant_time() -> None:
    coach = feed_token(SECRET, "coach", "maia")
    assert len(coach) == 32
    assert coach != feed_token(SECRET, "client", "maia") != feed_token(SECRET, "coach", "sam")
    assert feed_token_ok(SECRET, "coach", "maia", coach)
    assert not feed_token_ok(SECRET, "coach", "maia", coach[:-1] + "x")
    assert not feed_token_ok(SECRET, "coach", "maia", "é" * 32)
    assert not feed_token_ok(b"y" * 32, "coach", "maia", coach)
