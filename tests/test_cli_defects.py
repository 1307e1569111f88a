"""Defects of issue 13, each reproduced the way the issue describes it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cli_helpers import cli, cli_process, write_config
from conftest import base_config


def _sqlite_config(tmp_path: Path, **extra: Any) -> Path:
    data = base_config("")
    data.pop("database")
    data.update(extra)
    data.setdefault("state_dir", str(tmp_path / "state"))
    return write_config(tmp_path / "config.toml", data)


def _clean(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode in (0, 1, 2), result


@pytest.mark.parametrize(
    "args",
    [
        ["--from", "2027-01-01"],
        ["--from", "2027-01-01", "--to", "2027-02-01"],
        ["--to", "9999-12-31"],
        ["--from", "9999-12-31"],
        ["--from", "0001-01-01", "--to", "0001-01-01"],
    ],
)
def test_session_list_from_far_dates(
    capsys: pytest.CaptureFixture[str], db_url: str, tmp_path: Path, args: list[str]
) -> None:
    config = write_config(tmp_path / "c.toml", base_config(db_url))
    code, data, err = cli(capsys, config, "session", "list", *args, "--json")
    assert code in (0, 2), err
    if code == 0:
        assert data == []
    else:
        assert "out of range" in err


def test_session_list_far_from_as_a_process(tmp_path: Path) -> None:
    result = cli_process(_sqlite_config(tmp_path), "session", "list", "--from", "2027-01-01")
    _clean(result)
    assert result.returncode == 0


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


@pytest.mark.parametrize("once", [True, False])
def test_run_with_listen_taken_is_one_line_exit_2(
    tmp_path: Path, taken_port: int, once: bool
) -> None:
    listen = f"127.0.0.1:{taken_port}"
    config = _sqlite_config(tmp_path, http={"listen": listen})
    result = cli_process(config, "run", *(["--once"] if once else []), timeout=60)
    _clean(result)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.startswith("calbridge:")]
    assert len(lines) == 1 and "http.listen" in lines[0] and listen in lines[0], result.stderr


def test_state_dir_under_a_file(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    config = _sqlite_config(tmp_path, state_dir=str(tmp_path / "afile" / "state"))
    checked = cli_process(config, "check-config")
    _clean(checked)
    assert checked.returncode == 2
    assert "state_dir" in checked.stderr and "afile" in checked.stderr
    for args in (["client", "list"], ["session", "list"], ["agenda"]):
        result = cli_process(config, *args)
        _clean(result)
        assert result.returncode == 2
        assert str(tmp_path / "afile") in result.stderr, result.stderr


def test_unwritable_state_dir_names_path_and_cause(tmp_path: Path) -> None:
    # Root may write any ordinary folder; sysfs refuses new folders even to root.
    state = "/sys/kernel/calbridge-state"
    config = _sqlite_config(tmp_path, state_dir=state)
    for args in (["client", "list"], ["check-config"]):
        result = cli_process(config, *args)
        _clean(result)
        assert result.returncode == 2
        assert "/sys/kernel" in result.stderr and "cannot" in result.stderr, result.stderr
        assert "not permitted" in result.stderr or "denied" in result.stderr, result.stderr


@pytest.mark.parametrize(
    "args", [["agenda", "--all"], ["slots", "--coach", "maia", "--client", "ana"]]
)
def test_broken_pipe_is_quiet(tmp_path: Path, args: list[str]) -> None:
    config = _sqlite_config(tmp_path)
    from calbridge.cli.main import run

    add = ["client", "add", "--name", "Ana", "--email", "a@example.org", "--id", "ana"]
    assert run(["--config", str(config), *add, "--program", "intensive"]) == 0
    for day in range(2, 30):
        plan = ["session", "plan", "--coach", "maia", "--client", "ana", "--by", "client"]
        run(["--config", str(config), *plan, "--start", f"2031-01-{day:02d}T10:00"])
    base = [sys.executable, "-m", "calbridge", "--config", str(config)]
    # The reader has already gone (what `| head -1` does once it has its line).
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        writer = subprocess.run(
            [*base, *args], stdout=write_end, stderr=subprocess.PIPE, text=True, check=False
        )
    finally:
        os.close(write_end)
    assert "Traceback" not in writer.stderr and "BrokenPipe" not in writer.stderr, writer.stderr
    assert writer.returncode == 0


def test_check_config_reports_everything_at_once(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = base_config("sqlite:///" + str(tmp_path / "b.db"))
    data["coaches"][1]["id"] = "maia"  # a duplicate id
    data["coaches"][0]["timezone"] = "Mars/Olympus"  # a single-key error
    data["book"] = {"slot_minutes": 1}  # another
    data["outcomes"] = {"default_service": "nope"}  # across keys
    config = write_config(tmp_path / "c.toml", data)
    code, out, _err = cli(capsys, config, "check-config", "--json")
    assert code == 2
    keys = {p["key"]: p["message"] for p in out["error"]["problems"]}
    assert "Mars/Olympus" in keys["coaches[0].timezone"]
    assert "(got 1)" in keys["book.slot_minutes"]
    assert "'maia'" in keys["coaches[1].id"] and "duplicate" in keys["coaches[1].id"]
    assert "'nope'" in keys["outcomes.default_service"]


def test_config_after_subcommand_version_and_bare_help(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from calbridge import __version__
    from calbridge.cli.main import run

    config = _sqlite_config(tmp_path)
    assert run(["check-config", "--config", str(config)]) == 0
    assert "configuration is valid" in capsys.readouterr().out
    assert run(["client", "list", "--config", str(config), "--json"]) == 0
    assert capsys.readouterr().out.strip() == "[]"
    with pytest.raises(SystemExit) as exit_:
        run(["--version"])
    assert exit_.value.code == 0 and __version__ in capsys.readouterr().out
    assert run([]) == 0
    out = capsys.readouterr()
    assert "usage: calbridge" in out.out and "check-config" in out.out and not out.err


def test_client_percent_over_100_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = _sqlite_config(tmp_path)
    code, _, err = cli(
        capsys,
        config,
        "completion-type",
        "add",
        "--label",
        "Odd",
        "--description",
        "odd",
        "--maps-to",
        "completed",
        "--client-percent",
        "150",
        "--coach-percent",
        "100",
    )
    assert code == 2 and "150" in err and "100" in err
    code, types, _ = cli(capsys, config, "completion-type", "list", "--json")
    assert code == 0 and "Odd" not in str(types)


def test_sync_coach_without_calendar_is_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = _sqlite_config(tmp_path)
    code, _, err = cli(capsys, config, "sync", "--coach", "maia")
    assert code == 2 and "maia" in err and "coaches.calendar" in err
    code, _, err = cli(capsys, config, "check-config")
    assert code == 0 and "warning: coach 'maia' has no [coaches.calendar]" in err


def test_generated_ids_fold_accents(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = _sqlite_config(tmp_path)
    for name, email in (("Cara Müller", "cara@example.org"), ("Zoë Ørsted", "zoe@example.org")):
        code, data, err = cli(
            capsys,
            config,
            "client",
            "add",
            "--name",
            name,
            "--email",
            email,
            "--program",
            "standard",
            "--json",
        )
        assert code == 0, err
        assert data["name"] == name
    code, rows, _ = cli(capsys, config, "client", "list", "--json")
    assert sorted(r["id"] for r in rows) == ["cara-muller", "zoe-orsted"]


def test_indirect_sessions_do_not_use_the_monthly_limit(
    capsys: pytest.CaptureFixture[str], db_url: str, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "c.toml", base_config(db_url))
    add = ["client", "add", "--name", "Cy", "--email", "cy@example.org", "--id", "cy"]
    assert cli(capsys, config, *add, "--program", "single")[0] == 0
    plan = ["session", "plan", "--coach", "maia", "--client", "cy", "--duration", "30"]
    assert cli(capsys, config, *plan, "--start", "2031-03-03T10:00", "--indirect")[0] == 0
    assert cli(capsys, config, *plan, "--start", "2031-03-04T10:00", "--indirect")[0] == 0
    code, _, err = cli(capsys, config, *plan, "--start", "2031-03-05T10:00")
    assert code == 0, err
    code, _, err = cli(capsys, config, *plan, "--start", "2031-03-06T10:00")
    assert code == 1 and "full" in err


def test_under_systemd_relative_folders_land_in_state_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from calbridge.config import load_config

    etc, state = tmp_path / "etc", tmp_path / "var-lib"
    etc.mkdir()
    example = Path(__file__).resolve().parents[1] / "config.example.toml"
    installed = etc / "config.toml"
    installed.write_text(example.read_text())
    monkeypatch.setenv("CONFIGURATION_DIRECTORY", str(etc))
    monkeypatch.setenv("STATE_DIRECTORY", str(state))
    monkeypatch.delenv("CALBRIDGE_CONFIG", raising=False)
    settings = load_config(None)
    assert settings.state_dir.is_relative_to(state)
    assert settings.mail.folder.is_relative_to(state)
    for coach in settings.coaches:
        if coach.calendar and "://" not in coach.calendar.url:
            assert Path(coach.calendar.url).is_relative_to(state)
    assert not str(settings.database_url).startswith(f"sqlite:///{etc}")
