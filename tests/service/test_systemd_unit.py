"""systemd/calbridge.service: systemd-analyze verify passes, security exposure <= 2.0."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNIT = Path(__file__).resolve().parents[2] / "systemd" / "calbridge.service"
ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed")


def settings(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.lstrip().startswith(("#", "[")):
            key, _, value = line.partition("=")
            out.setdefault(key.strip(), []).append(value.strip())
    return out


def test_the_unit_is_a_notify_service_with_watchdog_credentials_and_hardening() -> None:
    unit = settings(UNIT.read_text())
    assert unit["Type"] == ["notify"] and unit["Restart"] == ["on-failure"]
    assert unit["WatchdogSec"] and unit["DynamicUser"] == ["yes"]
    assert unit["StateDirectory"] == ["calbridge"]
    assert unit["ConfigurationDirectory"] == ["calbridge"]
    assert unit["LoadCredential"]
    assert int(unit["LimitNOFILE"][0]) >= 4096
    for key in (
        "ProtectSystem",
        "ProtectHome",
        "PrivateTmp",
        "NoNewPrivileges",
        "RestrictAddressFamilies",
        "SystemCallFilter",
        "CapabilityBoundingSet",
    ):
        assert key in unit, key
    assert unit["ExecStart"][0].endswith("calbridge run")


def test_limit_nofile_holds_the_http_connection_cap_and_what_is_kept_for_the_rest() -> None:
    from calbridge.config.schema import HttpSettings
    from calbridge.web.limits import RESERVE

    soft = int(settings(UNIT.read_text())["LimitNOFILE"][0].split(":")[0])
    assert soft >= HttpSettings().max_connections + RESERVE


@needs_analyze
def test_systemd_analyze_verify_passes(tmp_path: Path) -> None:
    # verify checks that ExecStart= exists: point it at this virtualenv's calbridge.
    binary = Path(sys.executable).with_name("calbridge")
    assert binary.exists()
    unit = tmp_path / "calbridge.service"
    unit.write_text(UNIT.read_text().replace("/usr/local/bin/calbridge", str(binary)))
    result = subprocess.run(
        [str(ANALYZE), "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "calbridge.service" not in result.stderr, result.stderr  # no warnings about it


@needs_analyze
def test_systemd_analyze_security_rates_exposure_2_or_lower() -> None:
    result = subprocess.run(
        [str(ANALYZE), "security", "--offline=true", str(UNIT)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    found = re.search(r"Overall exposure level for calbridge\.service: ([0-9.]+)", result.stdout)
    assert found, result.stdout[-2000:] + result.stderr
    assert float(found.group(1)) <= 2.0, result.stdout[-3000:]
