"""Start-up: each command imports only what it needs, and the schema check is one query."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from calbridge.book import Book
from calbridge.cli import dispatch, listing, parser
from calbridge.errors import UserError
from calbridge.store import plain
from calbridge.store.db import (
    current_revision,
    head_revision,
    known_revisions,
    migrate,
    open_engine,
)
from cli_helpers import write_config
from conftest import base_config

HEAVY = ["aiohttp", "calbridge.web.app", "calbridge.cli.handlers_offers", "msal", "imapclient"]
HEAVY += ["phonenumbers", "alembic"]
#: What only mail, calendars, sync and the web need: no book command imports it.
NOT_FOR_BOOK = ["icalendar", "recurring_ical_events", "aiosmtplib", "calbridge.web"]
NOT_FOR_BOOK += ["calbridge.calendars", "calbridge.sync", "authlib"]
#: Mail's message building and sending (the text channel's registry, mail.channels, is
#: light and installed for every book command by service.wiring).
NOT_FOR_BOOK += ["calbridge.mail.consumer", "calbridge.mail.notify", "calbridge.mail.imip"]
NOT_FOR_BOOK += ["calbridge.mail.sender", "calbridge.mail.transport"]


def _leaves(p: object, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    import argparse

    assert isinstance(p, argparse.ArgumentParser)
    subs = [a for a in p._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        return [path]
    return [leaf for name, sub in subs[0].choices.items() for leaf in _leaves(sub, (*path, name))]


def test_every_command_of_the_parser_has_the_handler_of_the_registry() -> None:
    every = dispatch.every_handler()
    for leaf in _leaves(parser.build()):
        if leaf == ("check-config",):
            continue
        key = (leaf[0], leaf[1] if len(leaf) > 1 else None)
        assert dispatch.handler(*key) is every[key], key


def test_two_areas_never_claim_one_command() -> None:
    seen: dict[tuple[str, str | None], str] = {}
    for module in dispatch.area_modules():
        for key in dispatch._handlers_of(module):
            assert key not in seen, f"{key} in {module} and {seen[key]}"
            seen[key] = module


def _imported(config: Path, *args: str) -> set[str]:
    code = (
        "import sys\nfrom calbridge.cli.main import run\n"
        f"status = run({list(args)!r})\n"
        "print('MODULES', ' '.join(sys.modules))\nsys.exit(status)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=config.parent
    )
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stdout.splitlines() if x.startswith("MODULES "))
    return set(line.split()[1:])


def test_help_and_book_commands_import_none_of_the_heavy_modules(tmp_path: Path) -> None:
    config = write_config(tmp_path / "config.toml", base_config(f"sqlite:///{tmp_path}/b.db"))
    assert _imported(config, "--config", str(config), "client", "list")  # migrates once
    for args in (["client", "list"], ["session", "list", "--json"], ["check-config"], ["agenda"]):
        loaded = _imported(config, "--config", str(config), *args)
        assert not [m for m in [*HEAVY, *NOT_FOR_BOOK] if m in loaded], args
    plain_too = [["client", "list", "--all"], ["third-party", "list"], ["check-config"]]
    plain_too += [["session", "list", "--json"], ["session", "list", "--coach", "sam"]]
    for args in plain_too:
        loaded = _imported(config, "--config", str(config), *args)
        assert "sqlalchemy" not in loaded, args  # a SQLite book at the head: plain sqlite3
    code = "import sys\nfrom calbridge.cli import main, parser\nparser.build().format_help()\n"
    code += "print(' '.join(sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    helped = set(done.stdout.split())
    assert not [m for m in [*HEAVY, "sqlalchemy", "pydantic"] if m in helped]


def test_the_cheap_schema_check_knows_what_alembic_knows() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from calbridge.store.db import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(config)
    revisions, heads = known_revisions()
    assert revisions == {r.revision for r in script.walk_revisions()}
    assert heads == {head_revision()}


def test_a_book_from_a_newer_calbridge_is_refused_untouched(db_url: str) -> None:
    engine = open_engine(db_url)
    try:
        migrate(engine)
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        with pytest.raises(UserError, match="revision 9999, which this calbridge does not know"):
            migrate(engine)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "9999"
    finally:
        engine.dispose()


def test_a_book_behind_the_head_is_still_migrated(db_url: str) -> None:
    from alembic import command

    from calbridge.store.db import _alembic_config

    engine = open_engine(db_url)
    try:
        migrate(engine)
        with engine.begin() as conn:
            command.downgrade(_alembic_config(conn), "-1")
        assert current_revision(engine) != head_revision()
        migrate(engine)
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def _listed(book: Book, path: list[str]) -> tuple[Any, Any]:
    """(the book's answer, the plain-SQL answer) of a list command, as JSON data; on
    PostgreSQL there is no plain answer (the book's path is taken)."""
    args = parser.build().parse_args([*path, "--json"])
    through_book = dispatch.handler(args.command, args.action)(book, args)
    plainly = dispatch.without_book(args.command, args.action)
    assert plainly is not None, path
    found = plainly(book.settings, args)
    if not book.settings.database_url.startswith("sqlite"):
        assert found is None
        return through_book.data, through_book.data
    assert found is not None, path
    return through_book.data, found.data


def test_the_lists_read_without_sqlalchemy_match_the_books(book: Book) -> None:
    from calbridge.book import archive, parties

    parties.edit_client(book, "ben", timezone="Europe/Berlin")
    archive.set_archived(book, "client", "cy", True)
    archive.set_archived(book, "third-party", "doc", True)
    for path in (["client", "list"], ["client", "list", "--all"], ["third-party", "list", "--all"]):
        through_book, plain = _listed(book, path)
        assert plain == through_book, path
    _, everyone = _listed(book, ["client", "list", "--all"])
    assert {c["id"]: c["timezone"] for c in everyone}["ben"] == "Europe/Berlin"
    assert [c["id"] for c in everyone if c["archived"]] == ["cy"]
    _, active = _listed(book, ["client", "list"])
    assert "cy" not in [c["id"] for c in active]


def test_the_session_list_read_without_sqlalchemy_matches_the_books(book: Book) -> None:
    from book_helpers import plan, plan_one
    from calbridge.book import planning
    from calbridge.core.model import Actor, Kind, SeriesSpec

    plan_one(book, "2031-03-03 10:00")
    plan_one(book, "2031-03-03 11:00", clients=("ana", "ben"), third_parties=["doc"])
    plan(book, "2031-03-04 09:00", clients=("dee",), series=SeriesSpec("weekly", (1,), count=3))
    plan_one(book, "2031-03-05 09:00", clients=("cy",), direct=False, note="report für Dée")
    plan_one(book, "2031-03-05 13:00", clients=("cy",))  # indirect work left room
    plan_one(book, "2031-03-05 12:00", clients=(), kind=Kind.TEAM)
    gone = plan_one(book, "2031-03-06 09:00", clients=("ben",))
    planning.cancel(book, gone.id or 0, Actor.ADMIN, "ill")
    plan_one(book, "2031-03-05 10:00", coach="sam", clients=("ben",))
    plan_one(book, "2031-04-01 09:00", clients=("ana",))
    filters = [[], ["--coach", "maia"], ["--coach", "sam"], ["--client", "ana"]]
    filters += [["--client", "dee", "--from", "2031-03-11"], ["--to", "2031-03-05"]]
    filters += [["--from", "2031-03-05", "--to", "2031-03-05", "--coach", "maia"]]
    filters += [["--from", "2031-03-07", "--to", "9999-12-31"], ["--client", "ben"]]
    for path in filters:
        through_book, plain_ = _listed(book, ["session", "list", *path])
        assert plain_ == through_book, path
    everything, _ = _listed(book, ["session", "list"])
    assert len(everything) == 11
    months = {s["id"]: s.get("month_index") for s in everything if s["clients"] == ["ana"]}
    assert sorted(i for i in months.values() if i is not None) == [1, 1]
    assert {s["status"] for s in everything} == {"requested", "cancelled", "scheduled"}


def test_a_session_list_the_plain_read_cannot_answer_takes_the_book(book: Book) -> None:
    """An unknown client is named by the book's path (exit 1), not answered empty."""
    args = parser.build().parse_args(["session", "list", "--client", "nobody", "--json"])
    assert listing.sessions_without_book(book.settings, args) is None
    with pytest.raises(UserError, match="unknown client 'nobody'"):
        dispatch.handler("session", "list")(book, args)


def test_a_book_not_at_the_head_is_not_read_plainly(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/b.db"
    assert plain.read(url, plain.clients) is None  # no book yet: the book path creates it
    engine = open_engine(url)
    try:
        migrate(engine)
        assert plain.read(url, plain.clients) == []
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
        assert plain.read(url, plain.clients) is None  # behind: the book path migrates
    finally:
        engine.dispose()
    assert plain.read("postgresql+psycopg://u@h/db", plain.clients) is None
    assert plain.read(url + "?timeout=5", plain.clients) is None


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["client"],
        ["client", "list"],
        ["session", "plan"],
        ["session", "edit"],
        ["--config", "x.toml", "session", "list"],
        ["--conf", "x.toml", "agenda"],
        ["-v", "report", "balances"],
    ],
)
def test_a_parser_built_for_one_command_reads_it_as_the_whole_one(argv: list[str]) -> None:
    from calbridge.cli.lazyparse import command_of

    command = command_of(argv)
    words = list(argv[argv.index(command) :]) if command else []
    one, whole = parser.build(command, every=False), parser.build()
    assert one.format_help() == whole.format_help()
    if command is None:
        return
    one_sub, whole_sub = (_subparser(p, words) for p in (one, whole))
    assert one_sub.format_help() == whole_sub.format_help()


def _subparser(p: argparse.ArgumentParser, words: list[str]) -> argparse.ArgumentParser:
    for word in words:
        subs = [a for a in p._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            break
        p = subs[0].choices[word]
    return p
