"""``[http]`` limits for a server facing the internet: defaults, and mistakes named."""

from __future__ import annotations

from pathlib import Path

import pytest

from calbridge.config import load_config
from calbridge.config.schema import HttpSettings
from calbridge.errors import ConfigError


def test_the_defaults_are_bounded() -> None:
    http = HttpSettings()
    assert http.header_timeout_seconds == 10 and http.body_timeout_seconds == 30
    assert http.max_body_bytes == 65536
    assert http.max_connections == 1024 and http.max_connections_per_address == 64


def test_each_bad_limit_is_named_with_what_to_fix(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        "[http]\nheader_timeout_seconds = 0\nbody_timeout_seconds = -1\n"
        "max_body_bytes = 10\nmax_connections = 0\n"
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    messages = dict(info.value.problems)
    for key in (
        "http.header_timeout_seconds",
        "http.body_timeout_seconds",
        "http.max_body_bytes",
        "http.max_connections",
    ):
        assert key in messages, messages
    assert "greater than 0" in messages["http.header_timeout_seconds"]


def test_a_per_address_cap_over_the_cap_in_all_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[http]\nmax_connections = 100\nmax_connections_per_address = 200\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    (text,) = [m for k, m in info.value.problems if k.startswith("http")]
    assert "max_connections_per_address (200) is over max_connections (100)" in text
