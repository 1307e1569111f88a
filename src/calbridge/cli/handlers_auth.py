"""``calbridge auth graph`` (device code) and ``calbridge auth google`` (loopback): the
sign-ins, their instructions on stderr."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from calbridge.book import Book
from calbridge.errors import UserError

if TYPE_CHECKING:
    from calbridge.cli.handlers import Output


def graph(book: Book, a: argparse.Namespace) -> Output:
    from calbridge.calendars.graphauth import device_sign_in
    from calbridge.cli.handlers import Output

    coach = book.coach(a.coach)
    cfg = coach.calendar
    if cfg is None or getattr(cfg, "kind", "auto") != "graph":
        raise UserError(f'coach {coach.id}: [coaches.calendar] needs kind = "graph"')
    if not cfg.graph_client_id or not cfg.graph_token_file:
        raise UserError(
            f"coach {coach.id}: set graph_client_id (the app registered in Microsoft Entra)"
            " and graph_token_file in [coaches.calendar]"
        )

    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    who = device_sign_in(cfg.graph_client_id, cfg.graph_authority, cfg.graph_token_file, say)
    data = {"coach": coach.id, "account": who, "token_file": str(cfg.graph_token_file)}
    return Output(data, f"signed in as {who}; token stored in {cfg.graph_token_file}")


_GOOGLE_KEYS = (
    "oauth_token_url",
    "oauth_client_id",
    "oauth_client_secret_file",
    "oauth_refresh_token_file",
)


def google(book: Book, a: argparse.Namespace) -> Output:
    from calbridge.calendars.googleauth import GoogleClient, sign_in
    from calbridge.calendars.open import kind_of
    from calbridge.cli.handlers import Output
    from calbridge.config.schema import read_secret

    coach = book.coach(a.coach)
    cfg = coach.calendar
    if cfg is None or kind_of(cfg) != "caldav":
        raise UserError(
            f"coach {coach.id}: [coaches.calendar] needs a CalDAV url (Google's:"
            " https://apidata.googleusercontent.com/caldav/v2/ID/events)"
        )
    missing = [key for key in _GOOGLE_KEYS if not getattr(cfg, key)]
    if missing:
        raise UserError(f"coach {coach.id}: set {', '.join(missing)} in [coaches.calendar]")
    assert cfg.oauth_token_url and cfg.oauth_client_id and cfg.oauth_refresh_token_file
    secret = read_secret(None, cfg.oauth_client_secret_file)
    if not secret:
        raise UserError(f"{cfg.oauth_client_secret_file}: the client secret file is empty")
    if a.timeout <= 0:
        raise UserError("--timeout must be a positive number of seconds")
    client = GoogleClient(cfg.oauth_client_id, secret, cfg.oauth_auth_url, cfg.oauth_token_url)

    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    pasted = None if a.no_paste else sys.stdin
    done = sign_in(
        client,
        cfg.oauth_refresh_token_file,
        say=say,
        pasted=pasted,
        port=a.port,
        timeout=a.timeout,
    )
    data = {"coach": coach.id, "token_file": str(done.token_file), "scope": done.scope}
    return Output(data, f"signed in; refresh token stored in {done.token_file}")


HANDLERS: dict[tuple[str, str | None], Callable[[Book, argparse.Namespace], Any]] = {
    ("auth", "graph"): graph,
    ("auth", "google"): google,
}
