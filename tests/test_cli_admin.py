"""Housekeeping commands: closure list/remove (and the calendars following a removal)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli_helpers import cli, write_config
from conftest import base_config


@pytest.fixture
def config(db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    data = base_config(db_url)
    data["coaches"][0]["calendar"] = {"url": str(tmp_path / "maia-calendar")}
    path = write_config(tmp_path / "config.toml", data)
    code, _, err = cli(
        capsys, path, "client", "add", "--name", "Ana Lopez", "--email", "ana@example.org",
        "--program", "standard", "--id", "ana",
    )  # fmt: skip
    assert code == 0, err
    return path


def _close(capsys: pytest.CaptureFixture[str], config: Path, *extra: str) -> int:
    args = ["closure", "add", "--from", "2027-03-01", "--to", "2027-03-03", "--reason", "Works"]
    code, data, err = cli(capsys, config, *args, *extra, "--cancel-only", "--json")
    assert code == 0, err
    return int(data["closure"]["id"])


def _run(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> tuple[int, str, str]:
    """Like ``cli``, but a usage error (argparse exits 2) is returned, not raised."""
    try:
        return cli(capsys, config, *args)
    except SystemExit as exc:
        out, err = capsys.readouterr()
        return int(exc.code or 0), out, err


def _calendar(tmp_path: Path) -> list[str]:
    return sorted(p.read_text() for p in (tmp_path / "maia-calendar").glob("*.ics"))


def test_closure_list_and_remove_frees_days_and_leaves_the_calendar(
    capsys: pytest.CaptureFixture[str], config: Path, tmp_path: Path
) -> None:
    code, out, _ = cli(capsys, config, "closure", "list")
    assert code == 0 and out.strip() == "no closures"
    everyone = _close(capsys, config)
    only_sam = _close(capsys, config, "--coach", "sam")
    code, data, _ = cli(capsys, config, "closure", "list", "--json")
    assert [c["id"] for c in data] == [everyone, only_sam]
    assert data[0] == {
        "id": everyone, "from": "2027-03-01", "to": "2027-03-03", "coach": None, "reason": "Works"
    }  # fmt: skip
    code, data, _ = cli(capsys, config, "closure", "list", "--coach", "maia", "--json")
    assert [c["id"] for c in data] == [everyone]
    code, out, _ = cli(capsys, config, "closure", "list")
    assert "(all)" in out and "sam" in out

    plan = ["session", "plan", "--coach", "maia", "--client", "ana", "--start", "2027-03-02T10:00"]
    code, data, _ = cli(capsys, config, *plan, "--duration", "60", "--json")
    assert code == 1 and data["error"]["code"] == "closure"
    code, _, err = cli(capsys, config, "sync", "--coach", "maia")
    assert code == 0, err
    (event,) = _calendar(tmp_path)
    assert "Closed: Works" in event

    code, out, _ = cli(capsys, config, "closure", "remove", str(everyone))
    assert code == 0 and f"removed closure #{everyone}" in out
    code, data, _ = cli(capsys, config, "closure", "list", "--json")
    assert [c["id"] for c in data] == [only_sam]
    code, data, err = cli(capsys, config, *plan, "--duration", "60", "--json")
    assert code == 0, err
    code, _, err = cli(capsys, config, "sync", "--coach", "maia")
    assert code == 0, err
    left = _calendar(tmp_path)
    assert len(left) == 1 and "Closed:" not in left[0]  # only the new session is there
    code, data, _ = cli(capsys, config, "sync", "--coach", "maia", "--json")
    assert code == 0 and all(not c["actions"] for c in data["calendars"])


@pytest.mark.parametrize("bad", ["999", "0", "-1", "x", "", "99999999999999999999"])
def test_closure_remove_bad_id_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], config: Path, bad: str
) -> None:
    kept = _close(capsys, config)
    code, _, err = _run(capsys, config, "closure", "remove", bad)
    assert code in (1, 2) and "Traceback" not in err
    assert "closure" in err or "id" in err or "number" in err
    code, data, _ = cli(capsys, config, "closure", "list", "--json")
    assert [c["id"] for c in data] == [kept]


def test_closure_list_unknown_coach(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    code, _, err = cli(capsys, config, "closure", "list", "--coach", "nobody")
    assert code == 2 and "nobody" in err


def test_reminder_list(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    code, out, _ = cli(capsys, config, "reminder", "list")
    assert code == 0 and out.strip() == "no reminders to come"
    plan = ["session", "plan", "--coach", "maia", "--client", "ana", "--start", "2030-12-03T10:00"]
    code, _, err = cli(capsys, config, *plan, "--remind")
    assert code == 0, err
    code, data, _ = cli(capsys, config, "reminder", "list", "--json")
    assert [(r["state"], r["due"], r["lead"], r["to"]) for r in data] == [
        ("planned", "2030-12-02T10:00:00+00:00", "24h", ["ana"])
    ]
    code, out, _ = cli(capsys, config, "reminder", "list", "--coach", "maia")
    assert "planned" in out and "ana" in out
    code, data, _ = cli(capsys, config, "reminder", "list", "--coach", "sam", "--json")
    assert data == []
    code, _, err = _run(capsys, config, "reminder", "list", "--session", "abc")
    assert code == 2 and "not a number" in err


def test_series_disable_mirrors_and_mails_nothing_until_enabled(
    capsys: pytest.CaptureFixture[str], config: Path, tmp_path: Path
) -> None:
    plan = ["session", "plan", "--coach", "maia", "--client", "ana", "--start", "2030-12-02T10:00"]
    series = ["--repeat", "monthly", "--count", "3", "--remind", "--json"]
    code, data, err = cli(capsys, config, *plan, *series)
    assert code == 0, err
    (series_id,) = {s["series"] for s in data}
    code, data, err = cli(capsys, config, "series", "disable", str(series_id), "--json")
    assert code == 0 and data["enabled"] is False and len(data["sessions"]) == 3, err
    code, data, _ = cli(capsys, config, "reminder", "list", "--json")
    assert data == []  # no reminders while disabled
    code, _, err = cli(capsys, config, "sync", "--coach", "maia")
    assert code == 0, err
    assert _calendar(tmp_path) == []  # nothing new mirrored
    code, out, _ = cli(capsys, config, "series", "show", str(series_id))
    assert "disabled" in out and out.count("#") >= 4
    code, _, err = cli(capsys, config, "series", "disable", str(series_id))
    assert code == 2 and "already disabled" in err

    code, data, err = cli(capsys, config, "series", "enable", str(series_id), "--json")
    assert code == 0 and data["enabled"] is True, err
    code, data, _ = cli(capsys, config, "reminder", "list", "--json")
    assert len(data) == 3 and {r["state"] for r in data} == {"planned"}
    code, _, err = cli(capsys, config, "sync", "--coach", "maia")
    assert code == 0, err
    (event,) = _calendar(tmp_path)  # one event with its RRULE
    assert "RRULE:FREQ=MONTHLY" in event


@pytest.mark.parametrize("args", [["show", "5"], ["enable", "x"], ["disable", "0"], ["show"]])
def test_series_bad_ids(capsys: pytest.CaptureFixture[str], config: Path, args: list[str]) -> None:
    code, _, err = _run(capsys, config, "series", *args)
    assert code == 2 and "Traceback" not in err and err.startswith(("calbridge", "usage"))
