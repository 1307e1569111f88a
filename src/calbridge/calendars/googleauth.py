"""Signing a coach in to Google Calendar: the loopback flow with PKCE, no browser on the server.

Google's device-code flow grants only a short list of scopes and Calendar is not on it
(developers.google.com/identity/protocols/oauth2/limited-input-device, "Allowed scopes"),
so ``calbridge auth google --coach ID`` runs the flow Google documents for desktop apps
(developers.google.com/identity/protocols/oauth2/native-app, "Loopback IP address"):

1. calbridge listens on ``http://127.0.0.1:PORT/`` of the server and prints the
   authorization URL (client_id, redirect_uri, response_type=code, scope, state,
   code_challenge with code_challenge_method=S256, access_type=offline, prompt=consent);
2. the admin opens it in a browser on their own computer, signed in as the coach, and
   Google sends the browser back to the redirect URI with ``code`` and ``state`` (or
   ``error=access_denied``). With ``ssh -L PORT:127.0.0.1:PORT server`` that request
   reaches the listener; without a tunnel the browser shows "can't connect", and the
   address it shows can be pasted on calbridge's standard input instead;
3. calbridge checks ``state``, redeems the code at the token endpoint (code, client_id,
   client_secret, redirect_uri, grant_type=authorization_code, code_verifier) and writes
   the refresh token to ``oauth_refresh_token_file``, atomically, mode 0600. It is never
   printed. The CalDAV backend then trades it for access tokens (``davauth``).

Authlib builds the authorization URL and the PKCE pair, checks ``state`` and redeems the
code; the listener is the standard library's HTTP server.
"""

from __future__ import annotations

import queue
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import parse_qsl, urlsplit

from calbridge.calendars.private import write_private
from calbridge.errors import UserError

CALENDAR_SCOPE = "https://www.googleapis.com/auth/calendar"
"""Read and write the coach's calendars: what Google's CalDAV API asks for."""

DEFAULT_PORT = 8085

_PAGE = (
    "<!doctype html><meta charset=utf-8><title>calbridge</title>"
    "<p>{}</p><p>You can close this tab.</p>"
)


@dataclass(frozen=True)
class GoogleClient:
    """The OAuth client registered in Google Cloud (type "Desktop app") and its endpoints."""

    client_id: str
    client_secret: str
    auth_url: str
    token_url: str
    scope: str = CALENDAR_SCOPE


@dataclass(frozen=True)
class SignedIn:
    token_file: Path
    scope: str
    via: str  # "listener" or "paste"


def sign_in(
    client: GoogleClient,
    token_file: Path,
    *,
    say: Callable[[str], None],
    pasted: TextIO | None,
    port: int = DEFAULT_PORT,
    timeout: float = 600.0,
) -> SignedIn:
    """Run the loopback flow; nothing is written unless Google issued a refresh token."""
    from authlib.common.security import generate_token
    from authlib.integrations.requests_client import OAuth2Session

    answers: queue.Queue[tuple[str, str]] = queue.Queue()
    with _listening(port, answers) as bound:
        redirect = f"http://127.0.0.1:{bound}/"
        verifier = generate_token(64)  # RFC 7636: 43 to 128 characters
        with OAuth2Session(
            client.client_id,
            client.client_secret,
            scope=client.scope,
            redirect_uri=redirect,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_post",
        ) as session:
            url, state = session.create_authorization_url(
                client.auth_url,
                code_verifier=verifier,
                access_type="offline",  # a refresh token, not only an access token
                prompt="consent",  # and a new one even if the coach consented before
            )
            say(_instructions(url, bound, timeout, pasted is not None))
            if pasted is not None:
                _read_lines(pasted, answers)
            via, answer = _wait(answers, timeout, say)
            _check_answer(answer, state)
            token = _redeem(session, client, answer, verifier, state)
    refresh = token.get("refresh_token")
    if not isinstance(refresh, str) or not refresh:
        raise UserError(
            "Google sent no refresh token: remove calbridge's access at"
            " https://myaccount.google.com/permissions and run the command again"
        )
    scope = str(token.get("scope") or client.scope)
    if not set(client.scope.split()) <= set(scope.split()):
        raise UserError(
            f"Google granted {scope!r}, not {client.scope!r}: run the command again and tick"
            " the calendar access on Google's consent page"
        )
    write_private(token_file, refresh + "\n")
    return SignedIn(token_file, scope, via)


def _instructions(url: str, port: int, timeout: float, paste: bool) -> str:
    host = socket.gethostname()
    lines = [
        "Open this address in a browser, signed in to the coach's Google account:",
        "",
        f"  {url}",
        "",
        f"Google then sends the browser to http://127.0.0.1:{port}/, where calbridge is"
        " listening on this machine.",
        "From a browser on another computer, forward that port first:",
        f"  ssh -L {port}:127.0.0.1:{port} {host}",
    ]
    if paste:
        lines.append(
            "Or, when the browser says it cannot connect, copy the whole address it shows"
            " (http://127.0.0.1:…?state=…&code=…) and paste it here, then press Enter."
        )
    lines.append(f"Waiting up to {timeout:g} s …")
    return "\n".join(lines)


@contextmanager
def _listening(port: int, answers: queue.Queue[tuple[str, str]]) -> Iterator[int]:
    """An HTTP server on 127.0.0.1:port (0: any free port) for Google's redirect; yields
    the port. Requests carrying neither ``code`` nor ``error`` (a favicon) get a 404."""

    class Redirect(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            params = dict(parse_qsl(urlsplit(self.path).query))
            if "code" not in params and "error" not in params:
                self._page(404, "Not Google's answer to calbridge.")
                return
            answers.put(("listener", f"http://127.0.0.1:{bound}{self.path}"))
            if "error" in params:
                self._page(200, "The sign-in did not go through; calbridge says why.")
            else:
                self._page(200, "calbridge received Google's answer.")

        def _page(self, status: int, text: str) -> None:
            body = _PAGE.format(text).encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the query holds the one-time code: keep it out of the terminal

    try:
        server = HTTPServer(("127.0.0.1", port), Redirect)
    except OSError as exc:
        raise UserError(
            f"cannot listen on 127.0.0.1:{port} ({exc.strerror or exc}): choose another"
            " --port (0: any free one)"
        ) from exc
    bound = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield bound
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _read_lines(stream: TextIO, answers: queue.Queue[tuple[str, str]]) -> None:
    """Pasted addresses, read from a daemon thread (a terminal's readline cannot be
    interrupted: the thread is left behind when the listener answers first)."""

    def read() -> None:
        try:
            for line in stream:
                if line.strip():
                    answers.put(("paste", line.strip()))
        except (OSError, ValueError):
            return  # no usable standard input: the listener alone

    threading.Thread(target=read, daemon=True).start()


def _wait(
    answers: queue.Queue[tuple[str, str]], timeout: float, say: Callable[[str], None]
) -> tuple[str, dict[str, str]]:
    deadline = time.monotonic() + timeout
    while True:
        try:
            via, url = answers.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise UserError(
                f"no answer from Google's sign-in page within {timeout:g} s; run the command again"
            ) from None
        params = dict(parse_qsl(urlsplit(url).query))
        if "code" in params or "error" in params:
            params["_url"] = url
            return via, params
        say(
            "That is not the address Google sent the browser to (it has no code=):"
            " paste the whole address, starting http://127.0.0.1"
        )


def _check_answer(answer: dict[str, str], state: str) -> None:
    error = answer.get("error")
    if error == "access_denied":
        raise UserError(
            "Google sign-in declined: the coach's account did not allow calbridge"
            " (access_denied); run the command again to retry"
        )
    if error:
        why = answer.get("error_description") or error
        raise UserError(f"Google sign-in failed: {why} ({error})")
    if answer.get("state") != state:
        raise UserError(
            "that answer belongs to another sign-in (its state differs): use the address"
            " printed by this run"
        )


def _redeem(
    session: Any, client: GoogleClient, answer: dict[str, str], verifier: str, state: str
) -> dict[str, Any]:
    import requests
    from authlib.common.errors import AuthlibBaseError

    try:
        token = session.fetch_token(
            client.token_url,
            authorization_response=answer["_url"],
            code_verifier=verifier,
            state=state,
            timeout=30,
        )
    except AuthlibBaseError as exc:
        raise UserError(_refusal(str(exc.error), exc.description or "")) from None
    except requests.RequestException as exc:
        raise UserError(f"cannot redeem the code at {client.token_url}: {exc}") from None
    except ValueError as exc:  # not a JSON object
        raise UserError(f"token endpoint {client.token_url}: {exc}") from None
    return dict(token)


def _refusal(error: str, description: str) -> str:
    said = f"{error}: {description}" if description else error
    if error == "invalid_client":
        return (
            f"Google refused calbridge's OAuth client ({said}): check oauth_client_id and"
            " the secret in oauth_client_secret_file (a Desktop-app client's)"
        )
    if error == "invalid_grant":
        return (
            f"Google refused the authorization code ({said}): it expired or was used"
            " already; run the command again"
        )
    return f"Google's token endpoint refused the code ({said})"
