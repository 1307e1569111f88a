"""Signing a coach in to Microsoft Graph: MSAL's device-code flow, and its token cache.

``calbridge auth graph --coach ID`` runs the OAuth 2.0 device authorization grant through
MSAL (a public client: no secret on the server): it prints Microsoft's "open
https://microsoft.com/devicelogin and enter the code …" message, waits while the coach signs
in on any device, and writes MSAL's token cache (the refresh token among it) to the coach's
``graph_token_file``, mode 0600. The sync then asks MSAL for an access token from that cache
(``acquire_token_silent``); when MSAL redeems the refresh token and gets a rotated one, the
file is written back, atomically, as for Google's refresh tokens.

MSAL accepts only an https authority. For login.microsoftonline.com (and the national
clouds) it validates the authority and runs instance discovery as usual; any other host (a
test's loopback identity server, an ADFS) is taken as the operator configured it:
``validate_authority=False`` and ``instance_discovery=False``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from calbridge.calendars.davauth import EXPIRY_MARGIN, AuthenticationFailed, TokenPoster
from calbridge.calendars.private import write_private
from calbridge.errors import UserError

SCOPES = ["https://graph.microsoft.com/Calendars.ReadWrite"]  # MSAL adds offline_access
DEFAULT_AUTHORITY = "https://login.microsoftonline.com/common"
MICROSOFT_HOSTS = frozenset(
    {"login.microsoftonline.com", "login.microsoftonline.us", "login.chinacloudapi.cn"}
)


def _app(client_id: str, authority: str, cache: Any, session: Any) -> Any:
    import msal

    if urlsplit(authority).scheme != "https":
        raise UserError(f"graph_authority {authority!r}: MSAL needs an https:// authority")
    known = urlsplit(authority).hostname in MICROSOFT_HOSTS
    try:
        return msal.PublicClientApplication(
            client_id,
            authority=authority,
            token_cache=cache,
            http_client=session,
            validate_authority=known,
            instance_discovery=None if known else False,
        )
    except ValueError as exc:
        raise UserError(f"graph_authority {authority!r}: {exc}") from exc


def _cache(path: Path) -> Any:
    import msal

    cache = msal.SerializableTokenCache()
    if path.exists():
        try:
            cache.deserialize(path.read_text())
        except (OSError, ValueError) as exc:
            raise UserError(
                f"{path}: not a token file from `calbridge auth graph` ({exc})"
            ) from exc
    return cache


def device_sign_in(
    client_id: str, authority: str, token_file: Path, say: Callable[[str], None]
) -> str:
    """Run the device-code flow; the signed-in account's name. Nothing is written unless
    the sign-in succeeded."""
    import requests

    cache = _cache(token_file)
    with requests.Session() as session:
        app = _app(client_id, authority, cache, session)
        flow = app.initiate_device_flow(scopes=SCOPES)
        if "user_code" not in flow:
            raise UserError(f"device sign-in refused: {_why(flow)}")
        say(str(flow["message"]))
        result = app.acquire_token_by_device_flow(flow)
    if "access_token" not in result:
        raise UserError(f"device sign-in failed: {_why(result)}")
    write_private(token_file, cache.serialize())
    claims = result.get("id_token_claims") or {}
    return str(claims.get("preferred_username") or claims.get("oid") or "the account")


def _why(answer: dict[str, Any]) -> str:
    return str(answer.get("error_description") or answer.get("error") or answer)


class GraphToken:
    """Access tokens for Graph from the coach's MSAL token cache (an ``Auth``)."""

    def __init__(self, client_id: str, authority: str, token_file: Path) -> None:
        self.token_file = token_file
        if not token_file.exists():
            raise UserError(
                f"{token_file}: no Graph sign-in yet; run `calbridge auth graph --coach ID`"
            )
        import requests

        self._cache = _cache(token_file)
        #: Token requests are rare (hourly): the session's connections are closed after each.
        self._session = requests.Session()
        self._app = _app(client_id, authority, self._cache, self._session)
        self._force = False
        self._held: tuple[str, float] | None = None
        self._lock = threading.Lock()

    def header(self, post: TokenPoster) -> str:
        """The bearer header; MSAL is asked only when the one held is about to expire."""
        if not self._force and self._held and time.monotonic() < self._held[1]:
            return self._held[0]
        try:
            value, lifetime = self._header()
        finally:
            self._session.close()
        self._held = (value, time.monotonic() + max(0.0, lifetime - EXPIRY_MARGIN))
        return value

    def _header(self) -> tuple[str, float]:
        with self._lock:
            accounts = self._app.get_accounts()
            if not accounts:
                raise AuthenticationFailed(
                    f"{self.token_file}: holds no account; run `calbridge auth graph` again"
                )
            result = self._app.acquire_token_silent_with_error(
                SCOPES, account=accounts[0], force_refresh=self._force
            )
            self._force = False
            if self._cache.has_state_changed:
                write_private(self.token_file, self._cache.serialize())
                self._cache.has_state_changed = False
        if not result or "access_token" not in result:
            why = _why(result) if result else "no refresh token in the cache"
            raise AuthenticationFailed(
                f"Graph sign-in for {self.token_file} no longer works ({why});"
                " run `calbridge auth graph --coach ID` again"
            )
        return f"Bearer {result['access_token']}", float(result.get("expires_in") or 0)

    def renew(self) -> bool:
        with self._lock:
            already = self._force
            self._force = True
        return not already

    def __repr__(self) -> str:
        return f"GraphToken({self.token_file})"
