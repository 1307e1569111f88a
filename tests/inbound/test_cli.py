"""`calbridge inbound` and `calbridge counter list|accept|decline` as a person runs them:
clear errors naming what to fix, never a traceback."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cli_helpers import cli, write_config
from conftest import base_config
from inbound.conftest import inbound_config
from inbound.replies import Answer, mail
from servers.dovecot import Dovecot


def _config(db_url: str, tmp_path: Path, **inbound: Any) -> dict[str, Any]:
    data = base_config(db_url)
    data["mail"] = {"transport": "folder", "folder": str(tmp_path / "mail")}
    data["state_dir"] = str(tmp_path / "state")
    if inbound:
        data["inbound"] = inbound
    return data


def test_inbound_and_counter_commands(
    db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    imap_server: Dovecot,
    folders: dict[str, str],
) -> None:
    data = _config(db_url, tmp_path, **inbound_config(imap_server, folders))
    config = write_config(tmp_path / "config.toml", data)
    add = ["client", "add", "--name", "Ana Lopez", "--email", "ana@example.org"]
    assert cli(capsys, config, *add, "--program", "standard", "--id", "ana")[0] == 0
    plan = ["session", "plan", "--coach", "maia", "--client", "ana"]
    code, s, _ = cli(capsys, config, *plan, "--start", "2030-12-02T10:00", "--json")
    assert code == 0
    counter = Answer(
        uid=s["uid"], attendee="ana@example.org", method="COUNTER", partstat="NEEDS-ACTION",
        start=datetime.fromisoformat(s["start"]) + timedelta(days=2),
    )  # fmt: skip
    imap_server.append(mail(counter, "gmail"), folders["folder"])
    code, done, err = cli(capsys, config, "inbound", "--json")
    assert code == 0, err
    assert (done["applied"], done["rejected"]) == (1, 0)
    assert done["messages"][0]["code"] == "counter-open"
    code, waiting, _ = cli(capsys, config, "counter", "list", "--json")
    assert code == 0 and len(waiting) == 1
    ref = str(waiting[0]["id"])
    code, _, err = cli(capsys, config, "counter", "accept", ref)
    assert code == 0, err
    code, _, err = cli(capsys, config, "counter", "accept", ref)
    assert code == 2 and "already accepted" in err and "Traceback" not in err
    code, _, err = cli(capsys, config, "counter", "decline", "999")
    assert code == 2 and "counter list" in err
    code, listed, _ = cli(capsys, config, "counter", "list")
    assert code == 0 and "no requests for another time waiting" in listed
    code, shown, _ = cli(capsys, config, "session", "show", str(s["id"]), "--json")
    assert shown["status"] == "scheduled"


def test_a_mailbox_that_does_not_answer_is_a_clear_error(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from mail.smtp_helpers import free_port

    inbound = {"host": "127.0.0.1", "port": free_port(), "tls": False, "username": "x",
               "password": "y", "timeout": 2.0}  # fmt: skip
    config = write_config(tmp_path / "config.toml", _config(db_url, tmp_path, **inbound))
    code, _, err = cli(capsys, config, "inbound")
    assert code == 2
    assert "[inbound] 127.0.0.1:" in err and "Traceback" not in err


def test_a_wrong_password_is_a_clear_error(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], imap_server: Dovecot,
    folders: dict[str, str],
) -> None:  # fmt: skip
    inbound = {**inbound_config(imap_server, folders), "password": "wrong"}
    config = write_config(tmp_path / "config.toml", _config(db_url, tmp_path, **inbound))
    code, _, err = cli(capsys, config, "inbound")
    assert code == 2 and "[inbound]" in err and "Traceback" not in err


def test_without_an_inbound_section_the_command_says_what_to_add(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path / "config.toml", _config(db_url, tmp_path))
    code, _, err = cli(capsys, config, "inbound")
    assert code == 2 and "[inbound]" in err


def test_tls_and_starttls_together_are_refused_by_check_config(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inbound = {"host": "imap.example.org", "username": "x", "tls": True, "starttls": True}
    config = write_config(tmp_path / "config.toml", _config(db_url, tmp_path, **inbound))
    code, _, err = cli(capsys, config, "check-config")
    assert code == 2 and "inbound" in err and "exclusive" in err
