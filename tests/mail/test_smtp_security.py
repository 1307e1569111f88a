"""STARTTLS, implicit TLS and login against a real aiosmtpd server with its own certificate."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from book_helpers import plan_one
from calbridge.book import Book
from servers.tls import self_signed

from .conftest import add_people
from .smtp_helpers import SENDER, Recorder, free_port, send

USER, PASSWORD = "sessions@practice.example", "s3cret-pass"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (made by the openssl command)."""
    return self_signed(tmp_path_factory.mktemp("tls"))


logins: list[bytes] = []


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    if ok:
        logins.append(data.login)
    return AuthResult(success=ok, handled=False)


@contextmanager
def secure_server(cert: Path, key: Path, implicit: bool) -> Iterator[tuple[Recorder, int]]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    recorder, port = Recorder(), free_port()
    options: dict[str, Any] = {"authenticator": _authenticate, "auth_required": True}
    if implicit:
        # aiosmtpd only counts STARTTLS as TLS for AUTH; here the socket itself is TLS,
        # so AUTH is offered (not forced); logins shows the client did log in.
        options = {"authenticator": _authenticate, "ssl_context": context}
        options |= {"auth_require_tls": False, "auth_required": False}
    else:
        options |= {"tls_context": context, "require_starttls": True}
    controller = Controller(recorder, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield recorder, port
    finally:
        controller.stop()


def _book(
    make_book: Callable[..., Book], tmp_path: Path, port: int, cert: Path, **mail: Any
) -> Book:
    secret = tmp_path / "smtp-password"
    secret.write_text(PASSWORD + "\n")
    config = {
        "transport": "smtp",
        "host": "127.0.0.1",
        "port": port,
        "from": SENDER,
        "username": USER,
        "password_file": str(secret),
        "ca_file": str(cert),
        "timeout": 5.0,
    } | mail
    book = make_book(mail=config, state_dir="state")
    add_people(book)
    plan_one(book, "2026-11-23T10:00")
    return book


@pytest.mark.parametrize("implicit", [False, True], ids=["starttls", "tls"])
def test_encrypted_and_logged_in(
    make_book: Callable[..., Book],
    tmp_path: Path,
    certificate: tuple[Path, Path],
    implicit: bool,
) -> None:
    cert, key = certificate
    logins.clear()
    with secure_server(cert, key, implicit) as (recorder, port):
        mode = {"tls": True, "starttls": False} if implicit else {"starttls": True}
        book = _book(make_book, tmp_path, port, cert, **mode)
        report = send(book)
    assert len(report.sent) == 1 and len(recorder.received) == 1
    assert recorder.received[0].rcpt_tos == ["ana@example.org"]
    assert logins == [USER.encode()]


def test_a_wrong_password_is_retried_not_lost(
    make_book: Callable[..., Book], tmp_path: Path, certificate: tuple[Path, Path]
) -> None:
    cert, key = certificate
    with secure_server(cert, key, False) as (recorder, port):
        book = _book(make_book, tmp_path, port, cert)
        (tmp_path / "smtp-password").write_text("wrong\n")
        report = send(book)
        assert report.retried and report.error and "login refused" in report.error
        assert recorder.received == []


def test_an_untrusted_certificate_is_refused(
    make_book: Callable[..., Book], tmp_path: Path, certificate: tuple[Path, Path]
) -> None:
    cert, key = certificate
    with secure_server(cert, key, False) as (recorder, port):
        book = _book(make_book, tmp_path, port, cert, ca_file=None)
        report = send(book)
        assert report.retried and recorder.received == []
        assert report.error and "certificate" in report.error.lower()
