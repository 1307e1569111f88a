"""Recipients' timezones: a client or third party with a zone of their own reads every
time in it, named; one without reads the coach's, named as the coach's. The ICS keeps
the coach's TZID (calendar apps convert). Clients' zones are stored in the book (SQLite
and PostgreSQL) and shown by `client show`; a bad zone is a usage error."""

from __future__ import annotations

from collections.abc import Callable
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from sqlalchemy import select

from book_helpers import at, move, plan_one
from calbridge.book import Book, parties
from calbridge.errors import UserError
from calbridge.store import repo
from calbridge.store.tables import OutboxRow
from cli_helpers import cli, write_config
from conftest import base_config

from .smtp_helpers import calendar_part

ANA_PHONE = "+447911123401"


def _berlin_coaches() -> list[dict[str, object]]:
    coaches = base_config("")["coaches"]
    coaches[0]["timezone"] = "Europe/Berlin"
    return coaches


@pytest.fixture
def zbook(make_book: Callable[..., Book]) -> Book:
    mail = {"transport": "folder", "folder": "mail", "from": "sessions@practice.example"}
    b = make_book(coaches=_berlin_coaches(), mail=mail, state_dir="state")
    parties.add_client(
        b, "Ana Lopez", "ana@example.org", "standard", "ana", ANA_PHONE, "both",
        timezone="America/New_York",
    )  # fmt: skip
    parties.add_client(b, "Ben Ng", "ben@example.org", "standard", "ben")
    parties.add_third_party(b, "Dr Third", "doc@example.org", "doc", timezone="Asia/Tokyo")
    return b


def _queued(book: Book, channel: str, recipient: str) -> list[OutboxRow]:
    with book.transaction() as db:
        query = select(OutboxRow).where(
            OutboxRow.channel == channel, OutboxRow.recipient == recipient
        )
        return list(db.scalars(query.order_by(OutboxRow.id)))


def _plain(row: OutboxRow) -> str:
    message = message_from_bytes(row.raw, policy=policy.default)
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def test_each_recipient_reads_their_own_zone(zbook: Book) -> None:
    berlin = "2026-11-24T10:00"  # Tuesday 10:00 in Berlin = 04:00 New York = 18:00 Tokyo
    from zoneinfo import ZoneInfo

    s = plan_one(zbook, berlin, clients=("ana", "ben"), third_parties=["doc"])
    assert s.start == at(berlin, ZoneInfo("Europe/Berlin"))
    (ana,) = _queued(zbook, "mail", "ana@example.org")
    text = _plain(ana)
    assert "Tuesday 24 November 2026, 04:00\u201305:00 (America/New_York time)" in text
    assert "your coach's timezone" not in text
    assert "Tue 24 Nov 2026 04:00" in str(message_from_bytes(ana.raw)["Subject"])
    (doc,) = _queued(zbook, "mail", "doc@example.org")
    assert "18:00\u201319:00 (Asia/Tokyo time)" in _plain(doc)
    (ben,) = _queued(zbook, "mail", "ben@example.org")
    assert "10:00\u201311:00 (Europe/Berlin time, your coach's timezone)" in _plain(ben)
    # the invitation itself keeps the coach's zone: calendar apps convert
    data, method = calendar_part(message_from_bytes(ana.raw, policy=policy.default))
    assert method == "REQUEST"
    assert b"DTSTART;TZID=Europe/Berlin:20261124T100000" in data

    move(zbook, s.id or 0, "2026-11-25T09:00", client_requested=False)  # Berlin 10:00
    (texted,) = _queued(zbook, "sms", ANA_PHONE)
    said = texted.raw.decode()
    assert "Wed 25 Nov 04:00 (America/New_York)" in said, said
    assert "(was Tue 24 Nov 04:00 (America/New_York))" in said, said


def test_the_zone_is_stored_edited_and_reset(zbook: Book) -> None:
    with zbook.transaction() as db:
        assert repo.client(db, "ana").timezone == "America/New_York"
        assert repo.client(db, "ben").timezone is None
        assert repo.third_party(db, "doc").timezone == "Asia/Tokyo"
    edited = parties.edit_client(zbook, "ben", timezone="Europe/Lisbon")
    assert edited.timezone == "Europe/Lisbon"
    assert parties.edit_client(zbook, "ben", timezone="").timezone is None  # the coach's again
    assert parties.edit_third_party(zbook, "doc", timezone="UTC").timezone == "UTC"
    with pytest.raises(UserError, match="--timezone: unknown timezone 'Mars/Olympus'"):
        parties.edit_client(zbook, "ana", timezone="Mars/Olympus")
    with zbook.transaction() as db:
        assert repo.client(db, "ana").timezone == "America/New_York"  # nothing half-written


def test_cli_timezone_flag_show_and_bad_zone(
    capsys: pytest.CaptureFixture[str], db_url: str, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "config.toml", base_config(db_url))
    add = ["client", "add", "--name", "Ana Lopez", "--email", "ana@example.org"]
    add += ["--program", "standard", "--id", "ana"]
    code, _, err = cli(capsys, config, *add, "--timezone", "Europe/Nowhere")
    assert code == 2
    assert "--timezone: unknown timezone 'Europe/Nowhere'" in err
    assert "Traceback" not in err
    code, data, _ = cli(capsys, config, "client", "list", "--json")
    assert code == 0 and data == []  # nothing written
    code, _, _ = cli(capsys, config, *add, "--timezone", "America/New_York")
    assert code == 0
    code, data, _ = cli(capsys, config, "client", "show", "ana", "--json")
    assert code == 0 and data["timezone"] == "America/New_York"
    code, text, _ = cli(capsys, config, "client", "show", "ana")
    assert code == 0 and "America/New_York" in text
    code, _, _ = cli(capsys, config, "client", "edit", "ana", "--timezone", "")
    assert code == 0
    code, text, _ = cli(capsys, config, "client", "show", "ana")
    assert "their coach's" in text
    third = ["third-party", "add", "--name", "Dr T", "--email", "t@example.org", "--id", "doc"]
    code, _, err = cli(capsys, config, *third, "--timezone", "Bad/Zone")
    assert code == 2 and "unknown timezone 'Bad/Zone'" in err
    code, _, _ = cli(capsys, config, *third, "--timezone", "Asia/Tokyo")
    assert code == 0
    code, data, _ = cli(capsys, config, "third-party", "edit", "doc", "--timezone", "UTC", "--json")
    assert code == 0 and data["timezone"] == "UTC"


def test_an_offer_mail_and_text_use_the_clients_zone(zbook: Book) -> None:
    from zoneinfo import ZoneInfo

    from calbridge.book.offers import make_offer

    berlin = ZoneInfo("Europe/Berlin")
    s = plan_one(zbook, "2026-11-24T10:00", clients=("ana",))
    make_offer(zbook, s.id or 0, [at("2026-11-26T15:00", berlin)])
    with zbook.transaction() as db:
        rows = list(db.scalars(select(OutboxRow).where(OutboxRow.kind == "offer")))
    (mailed,) = [r for r in rows if r.channel == "mail"]
    text = _plain(mailed)
    assert "Thursday 26 November 2026, 09:00\u201310:00" in text  # 15:00 in Berlin
    assert "(all times America/New_York time)" in text
    (texted,) = [r for r in rows if r.channel == "sms"]
    assert "Thu 26 Nov 09:00 (America/New_York)" in texted.raw.decode()
