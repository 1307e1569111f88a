"""A calendar held by the mass-deletion guard, as the sysadmin and the admin see it:
the daemon stays healthy and keeps syncing the other coaches, /status, /healthz and
/metrics name the held calendar, and the CLI decides (PRODUCT rule 8)."""

from __future__ import annotations

import json
import signal
from collections.abc import Callable
from pathlib import Path

from cli_helpers import cli_process
from service.conftest import coach, daemon_config
from service.helpers import daemon, metric
from service.test_sync_process import plan_sessions


def test_a_wiped_calendar_is_held_visibly_and_the_admin_restores_it(
    tmp_path: Path, db_url: str, write: Callable[..., Path]
) -> None:
    folders = {c: tmp_path / "calendars" / c for c in ("maia", "sam")}
    (tmp_path / "calendars").mkdir()  # only the last level is created
    coaches = [coach(c, {"url": str(f)}) for c, f in folders.items()]
    config = write(daemon_config(tmp_path, db_url, coaches))
    plan_sessions(config, "maia", 6)
    with daemon(config) as d:
        d.wait_event("sync.done", calendar="maia", ok=True)
        assert len(list(folders["maia"].glob("*.ics"))) == 6
        for event in folders["maia"].glob("*.ics"):  # the coach's "delete all"
            event.unlink()
        seen = len(d.of("sync.done", calendar="sam"))
        done = d.wait_event("sync.done", calendar="maia", count=3)
        d.wait_event("sync.done", calendar="sam", count=seen + 2)  # the others go on
        assert all(e["ok"] for e in done)
        status, body = d.get("/healthz")
        health = json.loads(body)
        assert status == 200 and "6 of 6 events vanished" in health["held"]["maia"]
        calendars = json.loads(d.get("/status")[1])["calendars"]
        held = {c["calendar"]: c["held"] for c in calendars}
        assert held["sam"] is None and "--restore" not in (held["maia"] or "")
        assert "vanished" in (held["maia"] or "")
        text = d.get("/metrics")[1]
        assert metric(text, "calbridge_calendar_held", calendar="maia") == 1
        assert metric(text, "calbridge_calendar_held", calendar="sam") == 0
        d.signal(signal.SIGTERM)
        assert d.wait() == 0
    assert list(folders["maia"].glob("*.ics")) == []
    assert d.text().count("held by the mass-deletion guard") == 1  # one log line

    shown = cli_process(config, "session", "list", "--coach", "maia", "--json")
    assert {s["status"] for s in json.loads(shown.stdout)} == {"requested"}
    assert cli_process(config, "mail", "send").returncode == 0
    mails = list((tmp_path / "mail").glob("*.eml"))
    held_mail = [m.read_bytes() for m in mails if b"Calendar held" in m.read_bytes()]
    assert len(held_mail) == 2  # once, to the coach and to the admin
    assert any(b"To: Coach maia <maia@practice.example>" in m for m in held_mail)
    assert all(b"--accept-deletions" in m for m in held_mail)

    still = cli_process(config, "sync", "--coach", "maia")
    assert still.returncode == 1 and "held" in still.stderr and "Traceback" not in still.stderr
    usage = cli_process(config, "sync", "--restore")
    assert usage.returncode == 2 and "--coach" in usage.stderr
    restored = cli_process(config, "sync", "--coach", "maia", "--restore", "--json")
    assert restored.returncode == 0, restored.stderr
    report = json.loads(restored.stdout)["calendars"][0]
    assert sum(a["action"] == "create" for a in report["actions"]) == 6
    assert len(list(folders["maia"].glob("*.ics"))) == 6
    quiet = cli_process(config, "sync", "--coach", "maia", "--json")
    assert quiet.returncode == 0 and json.loads(quiet.stdout)["calendars"][0]["actions"] == []
