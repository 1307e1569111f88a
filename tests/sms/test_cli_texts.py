"""`client add|edit --phone --notify`, `client show` with consent, and `mail send`
texting through the folder transport (the embedded default) from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from calbridge.book import Book
from calbridge.config import load_config
from calbridge.store import repo_sms
from cli_helpers import cli, write_config
from conftest import base_config


def _config(tmp_path: Path, db_url: str) -> Path:
    data = base_config(db_url) | {
        "state_dir": str(tmp_path / "state"),
        "mail": {"transport": "folder", "folder": str(tmp_path / "mail")},
        "sms": {"folder": str(tmp_path / "sms"), "from": "Practice"},
    }
    return write_config(tmp_path / "config.toml", data)


def _add(capsys: pytest.CaptureFixture[str], config: Path, *extra: str) -> tuple[int, str]:
    code, _, err = cli(
        capsys, config, "client", "add", "--name", "Ana Lopez", "--email", "ana@example.org",
        "--program", "standard", "--id", "ana", *extra,
    )  # fmt: skip
    return code, err


def test_a_bad_phone_or_a_text_choice_without_one_is_refused_and_nothing_written(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, db_url: str
) -> None:
    config = _config(tmp_path, db_url)
    code, err = _add(capsys, config, "--phone", "12345", "--notify", "sms")
    assert code == 2 and "--phone: '12345' is not a valid phone number" in err
    assert "Traceback" not in err and err.count("\n") == 1
    code, err = _add(capsys, config, "--notify", "both")
    assert code == 2 and "--notify both needs a phone number" in err
    code, listed, _ = cli(capsys, config, "client", "list", "--json")
    assert listed == [], "nothing half-written"


def test_show_edit_and_a_text_in_the_folder(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, db_url: str
) -> None:
    config = _config(tmp_path, db_url)
    assert _add(capsys, config, "--phone", "07911 123456", "--notify", "sms") == (0, "")
    code, shown, _ = cli(capsys, config, "client", "show", "ana", "--json")
    assert (shown["phone"], shown["notify"], shown["texts"]) == ("+447911123456", "sms", "allowed")
    code, _, err = cli(
        capsys, config, "session", "plan", "--coach", "maia", "--client", "ana",
        "--start", "2030-03-04T10:00", "--json",
    )  # fmt: skip
    assert code == 0, err
    code, _, err = cli(capsys, config, "session", "cancel", "1", "--reason", "ill")
    assert code == 0, err
    code, report, _ = cli(capsys, config, "mail", "send", "--json")
    assert code == 0 and len(report["channels"]["sms"]["sent"]) == 1
    (text,) = sorted((tmp_path / "sms").glob("*.txt"))
    head, _, body = text.read_text("utf-8").partition("\n\n")
    assert "To: +447911123456\nFrom: Practice" in head
    assert body.startswith("Cancelled: Session: Ana Lopez with Maia Jones, Mon 4 Mar 10:00")
    assert "Reason: ill" in body
    code, outbox, _ = cli(capsys, config, "mail", "outbox", "--all", "--json")
    assert {(r["channel"], r["kind"]) for r in outbox} == {
        ("mail", "request"),
        ("sms", "cancel"),
    }, "texts only: the cancellation is not mailed, the invitation (with its calendar) is"

    book = Book.open(load_config(config), origin="test")
    try:
        with book.transaction() as db:
            repo_sms.record_consent(db, "+447911123456", True, "STOP", book.clock())
    finally:
        book.engine.dispose()
    code, shown, _ = cli(capsys, config, "client", "show", "ana")
    assert "opted out (STOP " in shown
    code, _, err = cli(capsys, config, "client", "edit", "ana", "--phone", "", "--notify", "email")
    assert code == 0, err
    code, shown, _ = cli(capsys, config, "client", "show", "ana", "--json")
    assert (shown["phone"], shown["notify"], shown["texts"]) == ("", "email", "-")
