"""`session edit` of a series' participants and of one occurrence's, end to end through
the command line: the mails' bytes (METHOD, UID, SEQUENCE, RRULE, EXDATE, RECURRENCE-ID,
who is named and who is written to) and the coach's stored copy (master, EXDATEs and
overrides with their attendees) on a vdir folder, Radicale and Xandikos; SQLite and
PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from cli_helpers import cli, write_config
from conftest import base_config
from mail.smtp_helpers import calendar_part
from sync.e2e_helpers import Target, event_of, open_target
from validate_helpers import assert_valid

LONDON = ZoneInfo("Europe/London")
MONDAYS = [datetime(2030, 12, d, 10, 0, tzinfo=LONDON) for d in (2, 9, 16)]


@pytest.fixture(params=["vdir", "radicale", "xandikos"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    with open_target(request, tmp_path) as target:
        yield target


class Practice:
    """The CLI on one config, and the mail folder read message by message."""

    def __init__(self, capsys: pytest.CaptureFixture[str], config: Path, mail: Path) -> None:
        self.capsys, self.config, self.mail = capsys, config, mail
        self.seen: set[Path] = set()

    def run(self, *args: str) -> Any:
        code, data, err = cli(self.capsys, self.config, *args)
        assert code == 0, (args, err)
        return data

    def fails(self, *args: str) -> str:
        code, _, err = cli(self.capsys, self.config, *args)
        assert code in (1, 2) and "Traceback" not in err, (args, code, err)
        return err

    def settled(self) -> bool:
        """A further sync finds nothing to do: the copy reads back as the book has it."""
        data = self.run("sync", "--coach", "maia", "--json")
        return all(not c["actions"] for c in data["calendars"])

    def new_mail(self) -> dict[str, list[tuple[str, bytes]]]:
        """The messages delivered since the last call: recipient -> (method, calendar)."""
        self.run("mail", "send")
        found: dict[str, list[tuple[str, bytes]]] = {}
        for path in sorted(set(self.mail.glob("*.eml")) - self.seen):
            self.seen.add(path)
            message = message_from_bytes(path.read_bytes(), policy=policy.default)
            assert isinstance(message, EmailMessage)
            found.setdefault(str(message["To"].addresses[0].addr_spec), []).append(
                _calendar(message)
            )
        return found


def _calendar(message: EmailMessage) -> tuple[str, bytes]:
    data, method = calendar_part(message)
    assert_valid(data)
    return method, data


def _events(data: bytes) -> list[Any]:
    return list(Calendar.from_ical(data).walk("VEVENT"))


def _who(event: Any) -> list[str]:
    found = event.get("ATTENDEE", [])
    found = found if isinstance(found, list) else [found]
    return sorted(str(a).removeprefix("mailto:").split("@")[0] for a in found)


def _exdates(event: Any) -> list[datetime]:
    found = event.get("EXDATE", [])
    return [d.dt for p in (found if isinstance(found, list) else [found]) for d in p.dts]


def _stored(target: Target, uid: str) -> tuple[Any, dict[datetime, Any]]:
    """The coach's copy: its master and its overrides by RECURRENCE-ID."""
    data = event_of(target.app, uid).data
    assert_valid(data, caldav=True)
    assert b"METHOD" not in data
    events = _events(data)
    (master,) = [e for e in events if "RECURRENCE-ID" not in e]
    return master, {e.decoded("RECURRENCE-ID"): e for e in events if "RECURRENCE-ID" in e}


@pytest.fixture
def practice(
    capsys: pytest.CaptureFixture[str], db_url: str, tmp_path: Path, target: Target
) -> Practice:
    data = base_config(db_url)
    data["state_dir"] = str(tmp_path / "state")
    data["mail"] = {"transport": "folder", "folder": str(tmp_path / "mail")}
    data["coaches"][0]["calendar"] = target.calendar
    found = Practice(capsys, write_config(tmp_path / "config.toml", data), tmp_path / "mail")
    for name in ("Ana", "Ben", "Cy", "Dee"):
        email = f"{name.lower()}@example.org"
        found.run("client", "add", "--name", name, "--email", email, "--program", "intensive")
    found.run("third-party", "add", "--name", "Dr Doc", "--email", "doc@example.org", "--id", "doc")
    return found


def _series(practice: Practice) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = practice.run(
        "session", "plan", "--coach", "maia", "--client", "ana", "--start", "2030-12-02T10:00",
        "--repeat", "weekly", "--on", "mon", "--count", "3", "--json",
    )  # fmt: skip
    practice.run("sync")
    assert list(practice.new_mail()) == ["ana@example.org"]
    return rows


def test_a_client_added_to_the_series_alone_gets_the_series(
    practice: Practice, target: Target
) -> None:
    rows = _series(practice)
    uid, ids = rows[0]["uid"], [str(r["id"]) for r in rows]
    edited = practice.run("session", "edit", ids[0], "--series", "--add-client", "ben", "--json")
    assert [e["clients"] for e in edited] == [["ana", "ben"]] * 3
    got = practice.new_mail()
    assert list(got) == ["ben@example.org"], "ana gets nothing"
    ((method, data),) = got["ben@example.org"]
    assert method == "REQUEST" and b"METHOD:REQUEST" in data
    (event,) = _events(data)
    assert str(event["UID"]) == uid and int(event["SEQUENCE"]) == 0
    assert event["RRULE"]["COUNT"] == [3] and "RECURRENCE-ID" not in event
    assert _who(event) == ["ana", "ben"] and _exdates(event) == []
    practice.run("sync")
    master, overrides = _stored(target, uid)
    assert _who(master) == ["ana", "ben"] and overrides == {}
    assert all(a.params["SCHEDULE-AGENT"] == "CLIENT" for a in master["ATTENDEE"])
    assert practice.settled()


def test_occurrences_and_series_in_and_out(practice: Practice, target: Target) -> None:
    rows = _series(practice)
    uid, ids = rows[0]["uid"], [str(r["id"]) for r in rows]
    practice.run("session", "cancel", ids[1])
    practice.new_mail()
    # Cy joins the series: the occurrence cancelled before is an EXDATE of theirs.
    practice.run("session", "edit", ids[0], "--series", "--add-client", "cy")
    ((method, data),) = practice.new_mail().pop("cy@example.org")
    (event,) = _events(data)
    assert method == "REQUEST" and "RRULE" in event and _exdates(event) == [MONDAYS[1]]
    # Dee joins the first occurrence only: a REQUEST for that RECURRENCE-ID alone.
    practice.run("session", "edit", ids[0], "--add-client", "dee")
    got = practice.new_mail()
    assert list(got) == ["dee@example.org"]
    ((method, data),) = got["dee@example.org"]
    (event,) = _events(data)
    assert method == "REQUEST" and "RRULE" not in event and "EXDATE" not in event
    assert event.decoded("RECURRENCE-ID") == MONDAYS[0] and str(event["UID"]) == uid
    assert _who(event) == ["ana", "cy", "dee"]
    # Cy leaves the third occurrence: a CANCEL with its RECURRENCE-ID, to Cy alone.
    practice.run("session", "edit", ids[2], "--remove-client", "cy")
    got = practice.new_mail()
    assert list(got) == ["cy@example.org"]
    ((method, data),) = got["cy@example.org"]
    (event,) = _events(data)
    assert method == "CANCEL" and str(event["STATUS"]) == "CANCELLED"
    assert event.decoded("RECURRENCE-ID") == MONDAYS[2] and _who(event) == ["cy"]
    assert int(event["SEQUENCE"]) == 2, "the cancelled occurrence raised the series to 1"
    practice.run("sync")
    master, overrides = _stored(target, uid)
    assert _who(master) == ["ana", "cy", "dee"] and _exdates(master) == [MONDAYS[1]]
    assert list(overrides) == [MONDAYS[2]] and _who(overrides[MONDAYS[2]]) == ["ana"]
    # Cy leaves the series: a CANCEL of the whole series (no RECURRENCE-ID), to Cy alone.
    practice.run("session", "edit", ids[0], "--series", "--remove-client", "cy")
    got = practice.new_mail()
    assert list(got) == ["cy@example.org"]
    ((method, data),) = got["cy@example.org"]
    (event,) = _events(data)
    assert method == "CANCEL" and "RECURRENCE-ID" not in event and _who(event) == ["cy"]
    assert str(event["UID"]) == uid and int(event["SEQUENCE"]) == 2
    practice.run("sync")
    master, overrides = _stored(target, uid)
    assert _who(master) == ["ana", "dee"] and _who(overrides[MONDAYS[2]]) == ["ana"]
    assert practice.settled()


def test_third_parties_of_a_series(practice: Practice, target: Target) -> None:
    rows = _series(practice)
    first = str(rows[0]["id"])
    practice.run("session", "edit", first, "--series", "--add-third-party", "doc")
    ((method, data),) = practice.new_mail().pop("doc@example.org")
    assert method == "REQUEST" and b"ROLE=OPT-PARTICIPANT" in data.replace(b"\r\n ", b"")
    practice.run("session", "edit", first, "--series", "--remove-third-party", "doc")
    got = practice.new_mail()
    assert list(got) == ["doc@example.org"] and got["doc@example.org"][0][0] == "CANCEL"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--series", "--note", "x"], "--series goes with"),
        (["--series", "--add-client", "ben", "--note", "x"], "changes participants only"),
        (["--series", "--remove-client", "ben"], "'ben' is not a client of any occurrence"),
        (["--series", "--remove-client", "ana"], "would have no client left"),
        (["--series", "--add-client", "ana"], "already takes part in every occurrence"),
        (["--series", "--add-client", "nobody"], "unknown client 'nobody'"),
    ],
)
def test_refused_series_edits_change_nothing(
    practice: Practice, args: list[str], message: str
) -> None:
    rows = _series(practice)
    before = practice.run("session", "list", "--json")
    assert message in practice.fails("session", "edit", str(rows[0]["id"]), *args)
    assert practice.run("session", "list", "--json") == before
    assert practice.new_mail() == {}
