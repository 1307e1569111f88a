"""Client page links: in every mail to a client (never to the coach), shown and revoked
from the command line, and the link_version migration on SQLite and PostgreSQL."""

from __future__ import annotations

import email
from email.message import Message
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, select, text

from book_helpers import at, plan_one
from calbridge.book import Book, client_links, planning
from calbridge.core.model import Actor
from calbridge.store.tables import OutboxRow
from cli_helpers import cli, write_config
from conftest import base_config


def _mails(book: Book) -> list[tuple[str, str, Message]]:
    with book.transaction() as db:
        rows = list(db.scalars(select(OutboxRow).order_by(OutboxRow.id)))
        return [(r.kind, r.recipient, email.message_from_bytes(r.raw)) for r in rows]


def _parts(message: Message) -> dict[str, str]:
    found = {}
    for part in message.walk():
        if part.get_content_maintype() == "text":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            found[part.get_content_type()] = payload.decode("utf-8")
    return found


def test_every_client_mail_carries_the_link(book: Book, base: str) -> None:
    session = plan_one(book, "2026-12-01T10:00")
    planning.answer(book, session.id or 0, Actor.CLIENT, False, "ana")  # the coach is told
    url = client_links.show(book, "ana")["url"]
    assert url.startswith(base + "/client/ana/")
    mails = _mails(book)
    to_ana = [m for m in mails if m[1] == "ana@example.org"]
    to_coach = [m for m in mails if m[1] == "maia@practice.example"]
    assert {k for k, _, _ in to_ana} == {"request"} and to_coach
    for _, _, message in to_ana:
        parts = _parts(message)
        assert url in parts["text/plain"]
        assert f'<a href="{url}">' in parts["text/html"]
    for _, _, message in to_coach:
        assert "/client/" not in str(_parts(message))
    assert requests.get(url, timeout=10).status_code == 200


def test_offer_mails_carry_the_link_too(book: Book, base: str) -> None:
    from calbridge.book.offers import make_offer

    session = plan_one(book, "2026-12-01T10:00")
    make_offer(book, session.id or 0, [at("2026-12-02T10:00"), at("2026-12-03T10:00")])
    url = client_links.show(book, "ana")["url"]
    (offer,) = [m for k, _, m in _mails(book) if k == "offer"]
    parts = _parts(offer)
    assert url in parts["text/plain"] and f'<a href="{url}">' in parts["text/html"]


def test_revoke_voids_old_links_and_new_mail_has_the_new_one(book: Book, base: str) -> None:
    plan_one(book, "2026-12-01T10:00")
    old = client_links.show(book, "ana")["url"]
    new = client_links.revoke(book, "ana")["url"]
    assert requests.get(old, timeout=10).status_code == 410
    assert requests.get(new, timeout=10).status_code == 200
    plan_one(book, "2026-12-02T10:00")
    latest = _parts(_mails(book)[-1][2])["text/plain"]
    assert new in latest and old not in latest


def test_cli_link_show_and_revoke(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = base_config(db_url) | {"state_dir": str(tmp_path / "state")}
    data["http"] = {"public_url": "https://sessions.practice.example"}
    config = write_config(tmp_path / "config.toml", data)
    add = ("client", "add", "--name", "Ana Lopez", "--email", "ana@example.org")
    assert cli(capsys, config, *add, "--program", "standard", "--id", "ana")[0] == 0
    code, shown, _ = cli(capsys, config, "client", "link", "show", "--client", "ana", "--json")
    assert code == 0 and shown["url"].startswith("https://sessions.practice.example/client/ana/1.")
    code, out, _ = cli(capsys, config, "client", "link", "revoke", "--client", "ana")
    assert code == 0 and "void" in out and "/client/ana/2." in out
    code, again, _ = cli(capsys, config, "client", "link", "show", "--client", "ana", "--json")
    assert again["url"] != shown["url"] and again["url"] in out
    code, _, err = cli(capsys, config, "client", "link", "revoke", "--client", "nobody")
    assert code == 2 and "unknown client 'nobody'" in err


def test_migration_gives_existing_clients_version_one(db_url: str) -> None:
    from alembic import command

    from calbridge.store.db import _alembic_config, migrate

    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            command.upgrade(_alembic_config(conn), "0015_waitlist")
            conn.execute(
                text(
                    "INSERT INTO clients (id, name, email, program, created_at)"
                    " VALUES ('old', 'Old Client', 'old@example.org', 'standard', :at)"
                ),
                {"at": "2026-01-01 00:00:00"},
            )
        migrate(engine)
        with engine.connect() as conn:
            found = conn.execute(text("SELECT link_version FROM clients WHERE id = 'old'"))
            assert found.scalar_one() == 1
        with engine.begin() as conn:
            command.downgrade(_alembic_config(conn), "0015_waitlist")
            cols = conn.execute(text("SELECT * FROM clients")).keys()
            assert "link_version" not in cols
    finally:
        engine.dispose()
