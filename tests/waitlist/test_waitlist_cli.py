"""The waitlist end to end from the command line (SQLite and PostgreSQL): `waitlist add`,
a `session cancel` offering the freed time, the text through the fake Twilio, the link
taken over real HTTP, `waitlist list`; `offer cancel` texting an sms client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from calbridge.book import Book
from calbridge.config.load import load_config
from calbridge.web.offers import offer_routes
from cli_helpers import cli, write_config
from conftest import base_config
from offers.helpers import http
from servers.threaded import serving_app
from servers.twilio_fake import FakeTwilio
from sms.conftest import sms_config

from .conftest import ANA

Capture = pytest.CaptureFixture[str]


@pytest.fixture
def config(
    db_url: str, tmp_path: Path, twilio: FakeTwilio, token_file: str, capsys: Capture
) -> Path:
    data: dict[str, Any] = base_config(db_url)
    data["state_dir"] = str(tmp_path / "state")
    data["http"] = {"public_url": "https://sessions.practice.example/"}
    data["mail"] = {"transport": "folder", "folder": str(tmp_path / "mail"), "from": "s@p.example"}
    data["sms"] = sms_config(twilio, token_file)
    path = write_config(tmp_path / "config.toml", data)
    for ident, extra in (("ana", ["--phone", ANA, "--notify", "sms"]), ("ben", []), ("dee", [])):
        code, _, err = cli(
            capsys, path, "client", "add", "--name", ident.title(), "--email",
            f"{ident}@example.org", "--program", "standard", "--id", ident, *extra,
        )  # fmt: skip
        assert code == 0, err
    return path


@pytest.fixture
def served(config: Path) -> Iterator[str]:
    """The offer links' HTTP server, on the CLI's database."""
    book = Book.open(load_config(config), origin="test")
    try:
        with serving_app([offer_routes(book, book.settings)]) as base:
            yield base
    finally:
        book.engine.dispose()


def _plan(capsys: Capture, config: Path, client: str, start: str) -> int:
    code, data, err = cli(
        capsys, config, "session", "plan", "--coach", "maia", "--client", client,
        "--start", start, "--json",
    )  # fmt: skip
    assert code == 0, err
    return int(data[0]["id"] if isinstance(data, list) else data["id"])


def test_cancel_offers_the_time_first_yes_wins(
    capsys: Capture, config: Path, served: str, twilio: FakeTwilio
) -> None:
    session = _plan(capsys, config, "dee", "2030-12-02T10:00")  # a Monday
    code, ana, err = cli(
        capsys, config, "waitlist", "add", "--client", "ana", "--coach", "maia",
        "--on", "mon", "--between", "09:00-12:00", "--json",
    )  # fmt: skip
    assert code == 0, err
    assert (ana["client"], ana["on"], ana["between"], ana["state"]) == (
        "ana", "mon", "09:00-12:00", "waiting",
    )  # fmt: skip
    code, out, err = cli(capsys, config, "waitlist", "add", "--client", "ben", "--coach", "maia")
    assert code == 0 and "added #2 ben waits for maia (any time)" in out, err
    code, listed, _ = cli(capsys, config, "waitlist", "list", "--json")
    assert [e["client"] for e in listed] == ["ana", "ben"]
    assert all(e["offers"] == [] for e in listed)

    code, _, err = cli(capsys, config, "session", "cancel", str(session), "--reason", "moved")
    assert code == 0, err
    code, listed, _ = cli(capsys, config, "waitlist", "list", "--coach", "maia", "--json")
    offers = {e["client"]: e["offers"] for e in listed}
    assert [(o["state"], o["start"]) for o in offers["ana"]] == [
        ("open", "2030-12-02T10:00:00+00:00")
    ]
    assert [o["state"] for o in offers["ben"]] == ["open"]
    code, text, _ = cli(capsys, config, "waitlist", "list")
    assert "#1 ana waits for maia (on mon, 09:00-12:00)" in text and "offer #1" in text

    code, _, err = cli(capsys, config, "mail", "send")
    assert code == 0, err
    (body,) = [b for m, b in zip(twilio.to(), twilio.bodies(), strict=True) if m == ANA]
    assert body.startswith("A time with Maia Jones came free: Mon 2 Dec 10:00 (Europe/London)")
    token = body.rsplit("/offer/", 1)[1].split()[0]

    status, page, _ = http(f"{served}/offer/{token}", "POST")
    assert status == 200, page
    code, listed, _ = cli(capsys, config, "waitlist", "list", "--all", "--json")
    by = {e["client"]: e for e in listed}
    assert by["ana"]["state"] == "booked" and by["ana"]["session"] is not None
    assert [o["state"] for o in by["ben"]["offers"]] == ["taken"]
    assert by["ben"]["state"] == "waiting"
    code, shown, _ = cli(capsys, config, "session", "show", str(by["ana"]["session"]), "--json")
    assert (shown["clients"], shown["status"]) == (["ana"], "scheduled")
    code, outbox, _ = cli(capsys, config, "mail", "outbox", "--all", "--json")
    kinds = {(r["channel"], r["kind"]) for r in outbox}
    assert {
        ("mail", "waitlist-offer"),
        ("sms", "waitlist-offer"),
        ("mail", "waitlist-gone"),
    } <= kinds

    code, _, err = cli(capsys, config, "waitlist", "remove", str(by["ben"]["id"]))
    assert code == 0, err
    code, listed, _ = cli(capsys, config, "waitlist", "list", "--json")
    assert listed == []


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["--on", "mon,funday"], "--on 'mon,funday'"),
        (["--between", "9am-5pm"], "--between '9am-5pm'"),
        (["--between", "12:00-09:00"], "--between '12:00-09:00'"),
    ],
)
def test_bad_wishes_exit_2_naming_the_flag(
    capsys: Capture, config: Path, args: list[str], flag: str
) -> None:
    code, _, err = cli(
        capsys, config, "waitlist", "add", "--client", "ana", "--coach", "maia", *args
    )
    assert code == 2 and flag in err and "Traceback" not in err
    code, listed, _ = cli(capsys, config, "waitlist", "list", "--all", "--json")
    assert listed == []


def test_offer_cancel_texts_the_sms_client(
    capsys: Capture, config: Path, twilio: FakeTwilio
) -> None:
    session = _plan(capsys, config, "ana", "2030-12-02T10:00")
    code, _, err = cli(capsys, config, "session", "offer", str(session), "--at", "2030-12-03T10:00")
    assert code == 0, err
    code, _, err = cli(capsys, config, "offer", "cancel", "1", "--reason", "sorted out")
    assert code == 0, err
    code, _, err = cli(capsys, config, "mail", "send")
    assert code == 0, err
    texts = [b for m, b in zip(twilio.to(), twilio.bodies(), strict=True) if m == ANA]
    assert texts[-1].startswith("Maia Jones withdrew the times offered (Tue 3 Dec 10:00")
