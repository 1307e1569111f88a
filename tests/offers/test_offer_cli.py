"""The offer commands from the command line: JSON shapes, refusals, expiry, feeds, serve."""

from __future__ import annotations

import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from calbridge.book import Book
from calbridge.config.load import load_config
from cli_helpers import cli, write_config
from conftest import Clock, base_config
from offers.helpers import http, live_holds, offer


@pytest.fixture
def config(db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    data: dict[str, Any] = base_config(db_url)
    data["state_dir"] = str(tmp_path / "state")
    data["http"] = {"public_url": "https://sessions.practice.example/"}
    data["offers"] = {"hold_hours": 48}
    path = write_config(tmp_path / "config.toml", data)
    code, _, err = cli(
        capsys, path, "client", "add", "--name", "Ana Lopez", "--email", "ana@example.org",
        "--program", "standard", "--id", "ana",
    )  # fmt: skip
    assert code == 0, err
    code, _, err = cli(
        capsys, path, "session", "plan", "--coach", "maia", "--client", "ana",
        "--start", "2030-12-03T10:00",
    )  # fmt: skip
    assert code == 0, err
    return path


def test_session_offer_json(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    code, data, err = cli(
        capsys, config, "session", "offer", "1", "--at", "2030-12-04T10:00",
        "--at", "2030-12-05T14:00", "--json",
    )  # fmt: skip
    assert code == 0, err
    assert (data["offer"], data["session"], data["state"]) == (1, 1, "open")
    assert [h["start"] for h in data["holds"]] == [
        "2030-12-04T10:00:00+00:00",
        "2030-12-05T14:00:00+00:00",
    ]
    assert sorted(data["links"]) == ["1", "2", "reject"]
    assert all(
        u.startswith("https://sessions.practice.example/offer/") for u in data["links"].values()
    )
    made = datetime.fromisoformat(data["deadline"]) - timedelta(hours=48)
    assert abs(made - datetime.now(UTC)) < timedelta(minutes=5)  # [offers] hold_hours = 48
    code, data, err = cli(
        capsys, config, "session", "offer", "1", "--at", "2030-12-06T10:00", "--json"
    )
    assert code == 1 and data["error"]["code"] == "offer_open" and "already has offer" in err


def test_session_offer_refusals_exit_1_with_json(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    code, data, err = cli(
        capsys, config, "session", "offer", "1", "--at", "2030-12-07T10:00", "--json"
    )  # a Saturday
    assert code == 1 and data["error"]["code"] == "unavailable" and "outside working hours" in err
    code, _, err = cli(capsys, config, "session", "offer", "1", "--at", "tomorrow")
    assert code == 2 and "--at" in err
    code, _, err = cli(
        capsys, config, "session", "offer", "1", "--at", "2030-12-04T10:00", "--hold-hours", "0"
    )
    assert code == 2 and "--hold-hours" in err
    code, _, err = cli(capsys, config, "session", "offer", "99", "--at", "2030-12-04T10:00")
    assert code == 2 and "unknown session 99" in err


def test_offer_expire_releases_what_is_past_its_deadline(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    book = Book.open(load_config(str(config)), origin="test")
    try:
        book.clock = Clock(datetime.now(UTC) - timedelta(days=3))  # offered three days ago
        offer(book, 1, "2030-12-04T10:00", "2030-12-05T10:00", hold_hours=24)
        assert len(live_holds(book)) == 2
        code, data, err = cli(capsys, config, "offer", "expire", "--dry-run", "--json")
        assert (code, data) == (0, {"released": 2, "dry_run": True}), err
        assert len(live_holds(book)) == 2
        code, data, err = cli(capsys, config, "offer", "expire", "--json")
        assert (code, data) == (0, {"released": 2, "dry_run": False}), err
        assert live_holds(book) == []
        assert cli(capsys, config, "offer", "expire")[1].strip() == "released 0 hold(s)"
    finally:
        book.engine.dispose()


def test_feed_url(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    code, data, _ = cli(capsys, config, "feed", "url", "--coach", "maia", "--json")
    assert code == 0 and data["url"].startswith(
        "https://sessions.practice.example/feed/coach/maia/"
    )
    code, text, _ = cli(capsys, config, "feed", "url", "--client", "ana")
    assert code == 0 and text.strip().startswith(
        "https://sessions.practice.example/feed/client/ana/"
    )
    assert text.strip() != data["url"]
    assert cli(capsys, config, "feed", "url", "--coach", "maia")[1].strip() == data["url"]  # stable
    code, _, err = cli(capsys, config, "feed", "url", "--client", "nobody")
    assert code == 2 and "unknown client" in err
    assert (config.parent / "state" / "http-secret").stat().st_mode & 0o777 == 0o600


def test_serve_runs_until_interrupted(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    _, data, _ = cli(capsys, config, "feed", "url", "--coach", "maia", "--json")
    path = data["url"].split("/", 3)[3]
    command = [sys.executable, "-m", "calbridge", "--config", str(config), "serve"]
    with subprocess.Popen(
        [*command, "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            assert line.startswith("serving offer links and feeds on http://127.0.0.1:"), line
            base = line.split()[-1]
            status, body, _ = http(f"{base}/{path}")
            assert status == 200 and "BEGIN:VCALENDAR" in body
            assert http(f"{base}/offer/forged")[0] == 400
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=20) == 0
        finally:
            if process.poll() is None:
                process.kill()
