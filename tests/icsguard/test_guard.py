"""The guard itself can fail a run: an inner pytest run whose tests make calbridge mail
and store invalid objects (in its own process and in one it starts) must fail, naming
each object, its kind and its test; the switch turns it off; in CI a missing validator
fails the run instead of passing it unvalidated."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from icsguard import hooks
from icsguard.check import TOOL

TESTS = Path(__file__).resolve().parent.parent

EVENT = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n{method}BEGIN:VEVENT\r\n"
    "UID:u1@example.org\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20270102T100000Z\r\n"
    "DTEND:{end}\r\nSUMMARY:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)
BACKWARDS = EVENT.format(method="", end="20270102T090000Z")  # DTEND before DTSTART
WITH_METHOD = EVENT.format(method="METHOD:PUBLISH\r\n", end="20270102T110000Z")
GOOD = EVENT.format(method="", end="20270102T110000Z")

INNER = f'''
import asyncio, subprocess, sys
from dataclasses import dataclass
from email.message import EmailMessage
from types import SimpleNamespace

from calbridge.calendars.vdir import VdirStore
from calbridge.mail.transport import FolderTransport
from calbridge.sync.engine import CalendarSync

BACKWARDS, WITH_METHOD, GOOD = {BACKWARDS!r}, {WITH_METHOD!r}, {GOOD!r}
MAIL = """
import asyncio, sys
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from calbridge.mail.transport import FolderTransport
m = EmailMessage(); m["To"] = "child@example.org"; m["Subject"] = "from a child"
m.set_content("hi"); m.add_attachment(sys.argv[2].encode(), "text", "calendar")
asyncio.run(FolderTransport(Path(sys.argv[1])).send("a@x.org", m["To"], "<c@x>", m.as_bytes()))
"""


def mail(folder, ics, to):
    m = EmailMessage(); m["To"] = to; m["Subject"] = "test"
    m.set_content("hi"); m.add_attachment(ics.encode(), "text", "calendar")
    asyncio.run(FolderTransport(folder).send("a@x.org", to, "<" + to + ">", m.as_bytes()))


def test_mails_an_invalid_invitation(tmp_path):
    mail(tmp_path, BACKWARDS, "in@example.org")


def test_mails_a_valid_one(tmp_path):
    mail(tmp_path, GOOD, "ok@example.org")


@dataclass
class Book:
    origin: str = ""


def test_a_sync_stores_a_resource_with_a_method(tmp_path):
    engine = CalendarSync(Book(), SimpleNamespace(id="maia"), VdirStore(tmp_path), None)
    engine.store.create("u1.ics", WITH_METHOD.encode())


def test_a_child_process_mails_one(tmp_path):
    ics = BACKWARDS.replace("SUMMARY:x", "SUMMARY:child")
    subprocess.run([sys.executable, "-c", MAIL, str(tmp_path), ics], check=True)
'''


def inner_run(tmp_path: Path, *extra: str, **env: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_inner.py").write_text(INNER)
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {hooks.DIR_ENV, "CI", "CALBRIDGE_TEST_VALIDATE", "PYTHONPATH"}
    }
    clean.update(PYTHONPATH=str(TESTS), **env)
    args = [sys.executable, "-m", "pytest", "-q", "-p", "icsguard.plugin", "-p", "no:cacheprovider"]
    return subprocess.run(
        [*args, *extra, "test_inner.py"],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.skipif(not TOOL.exists(), reason=f"needs the validator {TOOL}")
@pytest.mark.parametrize("workers", [None, "2"], ids=["one-process", "xdist"])
def test_invalid_objects_fail_the_run_each_named_with_its_test(
    tmp_path: Path, workers: str | None
) -> None:
    # Under pytest-xdist (make test runs two workers) each worker records, the controller
    # validates what they all saw.
    done = inner_run(tmp_path, *(["-n", workers] if workers else []))
    out = done.stdout
    assert done.returncode == 1, out + done.stderr
    assert "4 passed" in out and ": 3 invalid" in out, out
    assert "INVALID mail: mail written to in@example.org" in out
    assert "by test_inner.py::test_mails_an_invalid_invitation;" in out
    assert "INVALID vdir: vdir create u1.ics" in out
    assert "by test_inner.py::test_a_sync_stores_a_resource_with_a_method;" in out
    assert "must not contain METHOD" in out
    assert "INVALID mail: mail written to child@example.org" in out  # from the child
    assert "by test_inner.py::test_a_child_process_mails_one;" in out
    assert out.count("DTEND is before DTSTART") == 2
    assert "ok@example.org" not in out


def test_the_switch_turns_the_guard_off(tmp_path: Path) -> None:
    done = inner_run(tmp_path, CALBRIDGE_TEST_VALIDATE="0")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "libical validation" not in done.stdout


def test_in_ci_a_missing_validator_fails_the_run(tmp_path: Path) -> None:
    done = inner_run(
        tmp_path,
        CI="true",
        CALBRIDGE_TEST_VALIDATE="0",
        CALBRIDGE_VALIDATE_ICS=str(tmp_path / "nowhere.sh"),
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "4 passed" in done.stdout
    assert "NOT validated (FAILED)" in done.stdout and "nowhere.sh is missing" in done.stdout


@pytest.mark.skipif(not TOOL.exists(), reason=f"needs the validator {TOOL}")
def test_a_step_check_refuses_what_a_sync_stored_since_the_last_check(tmp_path: Path) -> None:
    from dataclasses import dataclass
    from types import SimpleNamespace

    from calbridge.calendars.vdir import VdirStore
    from calbridge.sync.engine import CalendarSync
    from icsguard.inline import StepCheck

    @dataclass
    class Book:
        origin: str = ""

    coach: Any = SimpleNamespace(id="maia")
    with StepCheck() as stored:
        engine = CalendarSync(Book(), coach, VdirStore(tmp_path))  # type: ignore[arg-type]
        engine.store.create("good.ics", GOOD.encode())
        stored.check()
        engine.store.update(
            "good.ics", WITH_METHOD.encode(), engine.store.changes(None).changed["good.ics"]
        )
        with pytest.raises(AssertionError, match=r"vdir update good.ics:\n  ERROR: .*METHOD"):
            stored.check()
        stored.check()  # reported once
    assert stored.validated == 2
