"""`calbridge mail send`, `mail outbox` and `session edit --[no-]remind` from the command line."""

from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path

import pytest

from calbridge.mail.transport import eml_name
from cli_helpers import cli, write_config
from conftest import base_config

from .smtp_helpers import Recorder, smtp_config


def _config(tmp_path: Path, db_url: str, mail: dict[str, object]) -> Path:
    data = base_config(db_url) | {"mail": mail, "state_dir": str(tmp_path / "state")}
    return write_config(tmp_path / "config.toml", data)


def _people(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    code, _, err = cli(
        capsys, config, "client", "add", "--name", "Ana Lopez", "--email", "ana@example.org",
        "--program", "standard", "--id", "ana",
    )  # fmt: skip
    assert code == 0, err


def test_folder_transport_worked_example(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, db_url: str
) -> None:
    folder = tmp_path / "mail"
    config = _config(tmp_path, db_url, {"transport": "folder", "folder": str(folder)})
    _people(capsys, config)
    code, planned, err = cli(
        capsys, config, "session", "plan", "--coach", "maia", "--client", "ana",
        "--start", "2030-03-04T10:00", "--note", "Room 2", "--json",
    )  # fmt: skip
    assert code == 0, err
    code, outbox, _ = cli(capsys, config, "mail", "outbox", "--json")
    assert code == 0 and [(r["kind"], r["to"], r["state"]) for r in outbox] == [
        ("request", "ana@example.org", "queued")
    ]
    code, dry, _ = cli(capsys, config, "mail", "send", "--dry-run", "--json")
    assert (
        code == 0
        and dry["dry_run"] is True
        and [r["to"] for r in dry["due"]] == ["ana@example.org"]
    )
    assert not folder.exists()  # nothing was sent
    code, report, _ = cli(capsys, config, "mail", "send", "--json")
    assert code == 0 and len(report["sent"]) == 1 and report["failed"] == []
    path = folder / eml_name(report["sent"][0])
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert message["To"] == "Ana Lopez <ana@example.org>"
    assert str(message["Subject"]).startswith("Invitation: Session: Ana Lopez")
    alternative = next(iter(message.iter_parts()))
    calendar = [p for p in alternative.iter_parts() if p.get_content_type() == "text/calendar"]
    payload = calendar[0].get_payload(decode=True)
    assert isinstance(payload, bytes) and f"UID:{planned['uid']}".encode() in payload
    code, outbox, _ = cli(capsys, config, "mail", "outbox", "--json")
    assert outbox == []
    code, text, _ = cli(capsys, config, "mail", "outbox", "--all")
    assert "sent" in text and "ana@example.org" in text

    code, edited, err = cli(
        capsys, config, "session", "edit", str(planned["id"]), "--no-remind", "--json"
    )
    assert code == 0 and edited["remind"] is False, err
    code, _, err = cli(capsys, config, "session", "edit", str(planned["id"]))
    assert code == 2 and "--[no-]remind" in err


def test_mail_send_through_smtp_reports_a_refusal(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, db_url: str, smtp: tuple[Recorder, int]
) -> None:
    recorder, port = smtp
    config = _config(tmp_path, db_url, smtp_config(port))
    _people(capsys, config)
    code, _, err = cli(
        capsys, config, "session", "plan", "--coach", "maia", "--client", "ana",
        "--start", "2030-03-04T10:00",
    )  # fmt: skip
    assert code == 0, err
    recorder.refuse_data = 1
    code, text, _ = cli(capsys, config, "mail", "send")
    assert code == 0 and "1 to retry" in text and "451" in text
    code, outbox, _ = cli(capsys, config, "mail", "outbox", "--json")
    assert outbox[0]["state"] == "queued" and outbox[0]["attempts"] == 1
    assert "451" in outbox[0]["last_error"]
