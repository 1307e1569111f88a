"""The real ``calbridge run`` process: systemd notifications, HTTP, signals, SQLite lock."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import make_url

from cli_helpers import cli_process
from service.conftest import coach, daemon_config
from service.helpers import NotifySocket, daemon, metric
from service.tcp_proxy import TcpProxy


def vdir_coach(tmp_path: Path, cid: str) -> dict[str, object]:
    (tmp_path / "calendars").mkdir(exist_ok=True)  # only the last level is created
    return coach(cid, {"url": str(tmp_path / "calendars" / cid)})


def sqlite(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'book.db'}"


def test_ready_watchdog_health_metrics_then_sigterm_exits_0(
    tmp_path: Path, write: Callable[..., Path]
) -> None:
    config = write(daemon_config(tmp_path, sqlite(tmp_path), [vdir_coach(tmp_path, "maia")]))
    notify = NotifySocket()
    env = {"NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "400000"}
    try:
        with daemon(config, env=env) as d:
            ready = notify.wait_for("READY=1", process=d)
            assert any(f.startswith("STATUS=serving on port") for f in ready.split("\n"))
            notify.wait_for("WATCHDOG=1", timeout=5)
            d.wait_event("sync.done", calendar="maia", count=2, ok=True)
            assert notify.fields().count("WATCHDOG=1") >= 2  # pinged at half of 0.4 s

            status, body = d.get("/healthz")
            assert status == 200, body
            health = json.loads(body)
            assert health["status"] == "ok" and health["reasons"] == []

            status, text = d.get("/metrics")
            assert status == 200
            assert (metric(text, "calbridge_sync_passes_total", calendar="maia") or 0) >= 2
            assert metric(text, "calbridge_sync_failures_total", calendar="maia") is None
            since = metric(text, "calbridge_seconds_since_last_good_sync", calendar="maia")
            assert since is not None and 0 <= since < 30
            assert metric(text, "calbridge_outbox_depth") == 0
            assert "calbridge_sync_duration_seconds_bucket" in text

            status, body = d.get("/status")
            (row,) = json.loads(body)["calendars"]
            assert row["calendar"] == "maia" and row["failures"] == 0 and row["last_ok_at"]

            d.signal(signal.SIGTERM)
            assert d.wait(30) == 0
            assert "STOPPING=1" in notify.fields()
            assert d.of("daemon.stopped")
    finally:
        notify.close()


def test_sighup_reload_keeps_running_on_a_broken_file_and_adds_coaches(
    tmp_path: Path, write: Callable[..., Path]
) -> None:
    good = daemon_config(tmp_path, sqlite(tmp_path), [vdir_coach(tmp_path, "maia")])
    config = write(good)
    with daemon(config) as d:
        d.wait_event("sync.done", calendar="maia")
        config.write_text(config.read_text() + "\n[service]\nbogus_key = 1\n[[[ not toml\n")
        d.signal(signal.SIGHUP)
        (failed,) = d.wait_event("config.reload_failed")
        assert failed["level"] == "error" and failed["problems"], failed
        config.write_text(config.read_text().split("\n[service]\nbogus_key")[0])
        config.write_text(config.read_text().replace("interval = 1.0", "interval = -1"))
        d.signal(signal.SIGHUP)
        second = d.wait_event("config.reload_failed", count=2)[1]
        assert any("service.interval" in p for p in second["problems"]), second
        passes = len(d.of("sync.done", calendar="maia"))
        d.wait_event("sync.done", calendar="maia", count=passes + 1)  # still syncing
        assert d.get("/healthz")[0] == 200

        good["coaches"].append(vdir_coach(tmp_path, "sam"))
        write(good)
        d.signal(signal.SIGHUP)
        (reloaded,) = d.wait_event("config.reloaded")
        assert reloaded["added"] == ["sam"] and reloaded["removed"] == []
        d.wait_event("sync.done", calendar="sam", ok=True)

        good["coaches"] = [c for c in good["coaches"] if c["id"] != "maia"]
        write(good)
        d.signal(signal.SIGHUP)
        d.wait_event("config.reloaded", count=2)
        time.sleep(0.5)  # a maia sync already running may finish; none may start after
        before = len(d.of("sync.start", calendar="maia"))
        d.wait_event("sync.done", calendar="sam", count=len(d.of("sync.done", calendar="sam")) + 2)
        assert len(d.of("sync.start", calendar="maia")) == before
        d.signal(signal.SIGINT)
        assert d.wait(30) == 0


def test_a_second_instance_on_the_same_sqlite_book_is_refused(
    tmp_path: Path, write: Callable[..., Path]
) -> None:
    config = write(daemon_config(tmp_path, sqlite(tmp_path), [vdir_coach(tmp_path, "maia")]))
    with daemon(config) as d:
        d.wait_event("daemon.started")
        second = cli_process(config, "run", "--once")
        assert second.returncode == 2, second.stderr
        assert "another calbridge run" in second.stderr
        assert f"pid {d.pid}" in second.stderr and "PostgreSQL" in second.stderr
        d.signal(signal.SIGTERM)
        assert d.wait() == 0
    # The lock is released with the process: now a run works.
    again = cli_process(config, "run", "--once")
    assert again.returncode == 0, again.stderr


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_healthz_says_503_with_the_reason_while_the_database_is_away(
    db_url: str, tmp_path: Path, write: Callable[..., Path]
) -> None:
    url = make_url(db_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    through = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    try:
        config = write(daemon_config(tmp_path, through, [vdir_coach(tmp_path, "maia")]))
        with daemon(config) as d:
            d.wait_event("sync.done", calendar="maia", ok=True)
            assert d.get("/healthz")[0] == 200
            proxy.cut()
            status, body = d.get("/healthz")
            assert status == 503, body
            (reason,) = json.loads(body)["reasons"]
            assert reason.startswith("database unreachable"), reason
            d.wait_event("database.error")
            assert d.proc.poll() is None  # still running, retrying
            proxy.resume()
            deadline = time.monotonic() + 20
            while d.get("/healthz")[0] != 200 and time.monotonic() < deadline:
                time.sleep(0.2)
            assert d.get("/healthz")[0] == 200
            passes = len(d.of("sync.done", calendar="maia"))
            d.wait_event("sync.done", calendar="maia", count=passes + 1)
            d.signal(signal.SIGTERM)
            assert d.wait() == 0
    finally:
        proxy.cut()
