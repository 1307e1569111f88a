"""A fake Google authorization server: the consent page and the token endpoint, on loopback.

Written from Google's "OAuth 2.0 for Mobile & Desktop Apps" (developers.google.com/identity/
protocols/oauth2/native-app) and "Using OAuth 2.0 to Access Google APIs":

- ``GET /o/oauth2/v2/auth`` takes client_id, redirect_uri (a loopback IP address, any port:
  ``http://127.0.0.1:PORT`` or ``http://[::1]:PORT``), response_type=code, scope, state,
  code_challenge and code_challenge_method (S256 or plain), access_type, prompt. An unknown
  client or a bad redirect_uri is an error page (Google does not redirect then); otherwise
  the consent page, a form whose answer (``POST /consent``, allow or deny) redirects the
  browser to redirect_uri with ``code``, ``scope`` and ``state``, or with
  ``error=access_denied`` and ``state``. ``granted`` narrows the scope consented to, as
  Google's granular consent lets a user untick a permission.
- ``POST /token`` with grant_type=authorization_code redeems a code once: client_id and
  client_secret (form fields, or HTTP Basic), the same redirect_uri, and the code_verifier
  whose S256 hash is the code_challenge. A wrong secret is ``401 invalid_client``; a used,
  unknown or expired code, or a wrong verifier, is ``400 invalid_grant``; a different
  redirect_uri is ``400 redirect_uri_mismatch``. The answer: access_token, expires_in,
  refresh_token (with access_type=offline), scope, token_type=Bearer.
- grant_type=refresh_token answers a new access token (Google keeps the refresh token: no
  rotation) or ``400 invalid_grant`` for a revoked one.

Access tokens go to ``on_issue`` (a fake CalDAV server's accepted bearers). Left out: ID
tokens (openid), incremental authorization, the consent screen's account chooser, the
``login_hint`` and revocation endpoints.
"""

from __future__ import annotations

import base64
import hashlib
import html
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from calendars.fakes import Answer, LoopbackServer

_LOOPBACK = re.compile(r"^http://(127\.0\.0\.1|\[::1\])(:\d+)?(/.*)?$")


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    scope: str
    challenge: str
    method: str
    offline: bool
    expires: float


@dataclass
class FakeGoogle(LoopbackServer):
    client_id: str = "1234-calbridge.apps.googleusercontent.com"
    client_secret: str = "GOCSPX-fake-secret"
    granted: str | None = None  # the scope consented to; None: all asked for
    code_lifetime: float = 600.0
    on_issue: Callable[[str], None] | None = None
    requests: list[dict[str, str]] = field(default_factory=list)  # authorization requests
    token_forms: list[dict[str, str]] = field(default_factory=list)
    refresh_tokens: set[str] = field(default_factory=set)
    issued: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__()
        self._ids = itertools.count(1)
        self._pending: dict[str, dict[str, str]] = {}
        self._codes: dict[str, Grant] = {}

    @property
    def auth_url(self) -> str:
        return self.base_url + "/o/oauth2/v2/auth"

    @property
    def token_url(self) -> str:
        return self.base_url + "/token"

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        url = urlsplit(path)
        if method == "GET" and url.path == "/o/oauth2/v2/auth":
            return self._authorize(dict(parse_qsl(url.query)))
        if method == "POST" and url.path == "/consent":
            return self._consent(dict(parse_qsl(body.decode())))
        if method == "POST" and url.path == "/token":
            form = dict(parse_qsl(body.decode()))
            self.token_forms.append(form)
            return self._token(form, headers)
        return _page(404, "Not found")

    # The browser's side

    def _authorize(self, query: dict[str, str]) -> Answer:
        self.requests.append(query)
        if query.get("client_id") != self.client_id:
            return _page(401, "Error 401: invalid_client. The OAuth client was not found.")
        if not _LOOPBACK.match(query.get("redirect_uri", "")):
            return _page(400, "Error 400: redirect_uri_mismatch")
        missing = [k for k in ("response_type", "scope") if not query.get(k)]
        if missing or query["response_type"] != "code":
            return _page(400, f"Error 400: invalid_request ({', '.join(missing) or 'type'})")
        if query.get("code_challenge_method", "plain") not in ("S256", "plain") or (
            "code_challenge_method" in query and not query.get("code_challenge")
        ):
            return _page(400, "Error 400: invalid_request (code_challenge)")
        request = f"req{next(self._ids)}"
        self._pending[request] = query
        scopes = html.escape(query["scope"])
        form = (
            f'<form method="post" action="/consent"><p>calbridge wants: {scopes}</p>'
            f'<input type="hidden" name="request" value="{request}">'
            '<button name="choice" value="allow">Allow</button>'
            '<button name="choice" value="deny">Cancel</button></form>'
        )
        return _page(200, form)

    def _consent(self, form: dict[str, str]) -> Answer:
        query = self._pending.pop(form.get("request", ""), None)
        if query is None:
            return _page(400, "Error 400: this consent page has expired")
        answer: dict[str, str]
        if form.get("choice") != "allow":
            answer = {"error": "access_denied"}
        else:
            code = f"4/0fake-code-{next(self._ids)}"
            scope = query["scope"] if self.granted is None else self.granted
            self._codes[code] = Grant(
                self.client_id,
                query["redirect_uri"],
                scope,
                query.get("code_challenge", ""),
                query.get("code_challenge_method", "plain"),
                query.get("access_type") == "offline",
                time.monotonic() + self.code_lifetime,
            )
            answer = {"code": code, "scope": scope}
        if "state" in query:
            answer["state"] = query["state"]
        return 302, {"Location": f"{query['redirect_uri']}?{urlencode(answer)}"}, b""

    # The server's side

    def _token(self, form: dict[str, str], headers: dict[str, str]) -> Answer:
        client = (form.get("client_id"), form.get("client_secret"))
        basic = headers.get("authorization", "")
        if basic.startswith("Basic "):
            client = tuple(base64.b64decode(basic[6:]).decode().split(":", 1))  # type: ignore[assignment]
        if client != (self.client_id, self.client_secret):
            return _json(401, {"error": "invalid_client", "error_description": "Unauthorized"})
        grant = form.get("grant_type")
        if grant == "refresh_token":
            if form.get("refresh_token") not in self.refresh_tokens:
                return _bad("invalid_grant", "Token has been expired or revoked.")
            return _json(200, self._access(None, ""))
        if grant != "authorization_code":
            return _bad("unsupported_grant_type", "Invalid grant_type: " + str(grant))
        found = self._codes.pop(form.get("code", ""), None)  # a code is redeemed once
        if found is None or time.monotonic() > found.expires:
            return _bad("invalid_grant", "Malformed auth code.")
        if form.get("redirect_uri") != found.redirect_uri:
            return _bad("redirect_uri_mismatch", "Bad Request")
        verifier = form.get("code_verifier")
        if found.challenge and not verifier:
            return _bad("invalid_request", "code_verifier or verifier is not provided")
        if found.challenge and _challenge(verifier or "", found.method) != found.challenge:
            return _bad("invalid_grant", "Invalid code verifier.")
        refresh = f"1//0fake-refresh-{next(self._ids)}" if found.offline else None
        return _json(200, self._access(refresh, found.scope))

    def _access(self, refresh: str | None, scope: str) -> dict[str, Any]:
        access = f"ya29.fake-access-{next(self._ids)}"
        self.issued.append(access)
        if self.on_issue is not None:
            self.on_issue(access)
        answer: dict[str, Any] = {"access_token": access, "expires_in": 3599}
        answer["token_type"] = "Bearer"
        if scope:
            answer["scope"] = scope
        if refresh:
            self.refresh_tokens.add(refresh)
            answer["refresh_token"] = refresh
        return answer


def _challenge(verifier: str, method: str) -> str:
    if method == "plain":
        return verifier
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _page(status: int, body: str) -> Answer:
    text = f"<!doctype html><title>Sign in - Google Accounts</title><body>{body}</body>"
    return status, {"Content-Type": "text/html; charset=utf-8"}, text.encode()


def _json(status: int, payload: dict[str, Any]) -> Answer:
    return status, {"Content-Type": "application/json; charset=utf-8"}, json.dumps(payload).encode()


def _bad(error: str, description: str) -> Answer:
    return _json(400, {"error": error, "error_description": description})
