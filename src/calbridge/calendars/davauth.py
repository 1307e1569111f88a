"""Credentials for CalDAV: HTTP Basic, a static bearer token, and OAuth2 refresh tokens.

Each kind answers two questions for the HTTP layer: which ``Authorization`` header to send
(:meth:`Auth.header`) and, after a 401, whether asking again could help (:meth:`Auth.renew`).
Only the OAuth2 kind can renew: it trades its refresh token for a new access token at the
token endpoint (RFC 6749 §6), before the old one expires or when the server refuses it.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import NoReturn, Protocol

from calbridge.calendars.base import StorageError, TransientError

EXPIRY_MARGIN = 60.0
"""Seconds before its announced expiry an access token is replaced."""


class AuthenticationFailed(StorageError):
    """The server or token endpoint refused the credentials: a person must fix them."""


class TokenPoster(Protocol):
    """Posts a form to a token endpoint: ``(status, body)``; TransientError if unreachable."""

    def __call__(self, url: str, form: Mapping[str, str]) -> tuple[int, bytes]: ...


class Auth(Protocol):
    def header(self, post: TokenPoster) -> str | None:
        """The ``Authorization`` header value to send, or None."""
        ...

    def renew(self) -> bool:
        """Forget cached credentials after a 401; True if a new attempt may succeed."""
        ...


@dataclass(frozen=True)
class BasicAuth:
    """Username and password (iCloud app-specific passwords, Fastmail, Nextcloud)."""

    username: str
    password: str

    def header(self, post: TokenPoster) -> str:
        pair = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")

    def renew(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"BasicAuth(username={self.username!r}, password=***)"


@dataclass(frozen=True)
class BearerToken:
    """A fixed bearer token (RFC 6750)."""

    token: str

    def header(self, post: TokenPoster) -> str:
        return f"Bearer {self.token}"

    def renew(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "BearerToken(***)"


class OAuth2RefreshToken:
    """An OAuth2 client holding a refresh token (Google): access tokens fetched as needed.

    ``clock`` is monotonic seconds (injectable for tests). A rotated refresh token sent back
    by the endpoint replaces the old one in :attr:`refresh_token` and is handed to
    ``on_rotate`` (which stores it, so a restart does not start from a revoked one).
    """

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        *,
        scope: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        on_rotate: Callable[[str], None] | None = None,
    ) -> None:
        self.token_url = token_url
        self._on_rotate = on_rotate
        self.client_id = client_id
        self.refresh_token = refresh_token
        self._client_secret = client_secret
        self._scope = scope
        self._clock = clock
        self._access: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"OAuth2RefreshToken(token_url={self.token_url!r}, client_id={self.client_id!r})"

    def header(self, post: TokenPoster) -> str:
        with self._lock:
            if self._access is None or self._clock() >= self._expires_at:
                self._fetch(post)
            return f"Bearer {self._access}"

    def renew(self) -> bool:
        with self._lock:
            self._access = None
        return True

    def _form(self) -> dict[str, str]:
        form = {
            "grant_type": "refresh_token",
            "refresh_token": self.refresh_token,
            "client_id": self.client_id,
            "client_secret": self._client_secret,
        }
        if self._scope:
            form["scope"] = self._scope
        return form

    def _fetch(self, post: TokenPoster) -> None:
        status, body = post(self.token_url, self._form())
        if status != 200:
            _refused(status, body)
        answer = _json_object(body)
        access = answer.get("access_token")
        if not isinstance(access, str) or str(answer.get("token_type", "")).lower() != "bearer":
            raise AuthenticationFailed("token endpoint: no bearer access_token in the answer")
        self._access = access
        self._expires_at = self._clock() + _lifetime(answer.get("expires_in"))
        rotated = answer.get("refresh_token")
        if isinstance(rotated, str) and rotated and rotated != self.refresh_token:
            self.refresh_token = rotated
            if self._on_rotate is not None:
                self._on_rotate(rotated)


def _json_object(body: bytes) -> dict[str, object]:
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise AuthenticationFailed(f"token endpoint: not a JSON object: {body[:200]!r}")
    return answer


def _lifetime(expires_in: object) -> float:
    """Seconds to use a token: its lifetime less a margin (half of it for short lifetimes)."""
    if not isinstance(expires_in, int | float) or expires_in <= 0:
        return 3600.0 - EXPIRY_MARGIN  # RFC 6749 §5.1: the lifetime is only RECOMMENDED
    seconds = float(expires_in)
    return seconds - min(EXPIRY_MARGIN, seconds / 2)


def _refused(status: int, body: bytes) -> NoReturn:
    if status == 429 or status >= 500:
        raise TransientError(f"token endpoint answered {status}")
    try:
        error = json.loads(body).get("error", "")
    except (ValueError, AttributeError):
        error = ""
    raise AuthenticationFailed(
        f"token endpoint refused the refresh token ({status} {error or 'no error code'});"
        " authorise calbridge again (Google: `calbridge auth google --coach ID`)"
    )


def as_auth(auth: Auth | tuple[str, str] | None) -> Auth | None:
    """Accept ``(username, password)`` as a shorthand for :class:`BasicAuth`."""
    if isinstance(auth, tuple):
        return BasicAuth(*auth)
    return auth
