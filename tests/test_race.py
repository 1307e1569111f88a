"""Concurrent plans in separate processes can never exceed a limit or double-book a coach."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from calbridge.cli.main import run
from cli_helpers import write_config
from conftest import base_config

WORKERS = 8


def _spawn(config: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "calbridge", "--config", str(config), *args, "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _race(config: Path, argsets: list[list[str]]) -> list[tuple[int, str]]:
    procs = [_spawn(config, *args) for args in argsets]
    results = []
    for proc in procs:
        out, _ = proc.communicate(timeout=120)
        results.append((proc.returncode, out))
    return results


@pytest.fixture
def config(db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    path = write_config(tmp_path / "config.toml", base_config(db_url))
    for i in range(WORKERS):
        assert (
            run(
                [
                    "--config",
                    str(path),
                    "client",
                    "add",
                    "--name",
                    f"C{i}",
                    "--email",
                    f"c{i}@example.org",
                    "--program",
                    "standard",
                    "--id",
                    f"c{i}",
                ]
            )
            == 0
        )
    capsys.readouterr()
    return path


@pytest.mark.slow
def test_concurrent_plans_never_exceed_the_limit(config: Path) -> None:
    argsets = [
        [
            "session",
            "plan",
            "--coach",
            "maia",
            "--client",
            "c0",
            "--start",
            f"2030-12-{2 + i:02d}T{9 + i % 7:02d}:00",
            "--override-availability",
        ]
        for i in range(WORKERS)
    ]
    results = _race(config, argsets)
    codes = sorted(code for code, _ in results)
    assert codes == [0, 0] + [1] * (WORKERS - 2), results
    refusals = [json.loads(out)["error"]["code"] for code, out in results if code == 1]
    assert set(refusals) == {"monthly_limit"}


@pytest.mark.slow
def test_concurrent_plans_never_double_book_the_coach(config: Path) -> None:
    argsets = [
        ["session", "plan", "--coach", "maia", "--client", f"c{i}", "--start", "2030-12-03T10:00"]
        for i in range(WORKERS)
    ]
    results = _race(config, argsets)
    codes = sorted(code for code, _ in results)
    assert codes == [0] + [1] * (WORKERS - 1), results
