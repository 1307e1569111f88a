"""The [services] and [outcomes] keys: exact amounts, and every mistake named by its key."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from calbridge.config.load import build, load_config
from calbridge.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[1] / "config.example.toml"


def test_example_configures_services_and_tags() -> None:
    settings = load_config(EXAMPLE)
    coaching = settings.services["coaching"]
    assert (coaching.fee, coaching.wage) == (Decimal("80.00"), Decimal("45.00"))
    assert settings.outcomes.default_service == "coaching"
    assert settings.outcomes.tag_targets()["No show"].outcome == "no-show"


def test_amounts_are_exact_even_when_written_as_toml_floats(tmp_path: Path) -> None:
    settings = build({"services": {"s": {"fee": 0.1, "wage": "33.35"}}}, tmp_path)
    assert settings.services["s"].fee == Decimal("0.10")
    assert settings.services["s"].fee + Decimal("0.20") == Decimal("0.30")


def test_mistakes_are_reported_with_their_keys(tmp_path: Path) -> None:
    bad = {
        "services": {"s": {"fee": "12.345", "wage": "-1"}},
        "outcomes": {
            "currency": "pounds",
            "late_cancel_hours": 12,
            "tags": {
                "Oops": "partly",
                "[x]": "attended",
                "Half": {"outcome": "attended", "type": "x" * 16},
            },
        },
    }
    with pytest.raises(ConfigError) as info:
        build(bad, tmp_path)
    keys = {key for key, _ in info.value.problems}
    assert {"services.s.fee", "services.s.wage", "outcomes.currency"} <= keys
    assert "outcomes.late_cancel_hours" in keys  # a key that moved: it says where to
    assert "now [policies] cancel_deadline_hours" in str(info.value)
    text = str(info.value)
    assert "more than two decimals" in text and "ISO 4217" in text
    with pytest.raises(ConfigError, match="unknown outcome 'partly'"):
        build({"outcomes": {"tags": {"Oops": "partly"}}}, tmp_path)
    with pytest.raises(ConfigError, match="at most 15"):
        build({"outcomes": {"tags": {"H": {"outcome": "attended", "type": "x" * 16}}}}, tmp_path)
    with pytest.raises(ConfigError, match=r"outcomes\.default_service: unknown service 'gone'"):
        build({"outcomes": {"default_service": "gone"}}, tmp_path)
