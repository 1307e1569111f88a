"""Open the right calendar backend for a configured calendar."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from calbridge.calendars.base import CalendarStore
from calbridge.calendars.caldav import CalDAVStore
from calbridge.calendars.davauth import Auth, BasicAuth, BearerToken, OAuth2RefreshToken
from calbridge.calendars.davdiscovery import discover
from calbridge.calendars.feed import IcsFeedStore
from calbridge.calendars.private import write_private
from calbridge.calendars.vdir import VdirStore
from calbridge.config.schema import DavSettings, read_secret
from calbridge.errors import UserError
from calbridge.ical.bounds import DEFAULT, Bounds

log = logging.getLogger(__name__)
_discovered: dict[str, str] = {}
#: OAuth clients live as long as the process: their access and rotated refresh tokens
#: carry over from one pass to the next.
_oauth: dict[tuple[str, str, str], OAuth2RefreshToken] = {}
_graph_tokens: dict[tuple[str, str, str], Auth] = {}


def is_url(location: str) -> bool:
    return "://" in location


def auth_for(cfg: DavSettings) -> Auth | None:
    """Basic, bearer or OAuth2 refresh-token auth, from the configuration's keys."""
    if cfg.oauth_token_url:
        return _oauth_client(cfg)
    bearer = cfg.bearer()
    if bearer:
        return BearerToken(bearer)
    password = cfg.secret()
    if cfg.username and password is not None:
        return BasicAuth(cfg.username, password)
    if cfg.username:
        raise UserError(f"calendar {cfg.url}: username is set but no password or password_file")
    return None


def _oauth_client(cfg: DavSettings) -> OAuth2RefreshToken:
    assert cfg.oauth_token_url and cfg.oauth_client_id and cfg.oauth_refresh_token_file
    key = (cfg.oauth_token_url, cfg.oauth_client_id, str(cfg.oauth_refresh_token_file))
    client = _oauth.get(key)
    if client is None:
        path = Path(cfg.oauth_refresh_token_file)
        if not path.exists():
            raise UserError(
                f"{path}: no Google sign-in yet; run `calbridge auth google --coach ID`"
            )
        secret = read_secret(None, cfg.oauth_client_secret_file)
        refresh = read_secret(None, path)
        if not (secret and refresh):
            empty = "oauth_client_secret_file" if not secret else "oauth_refresh_token_file"
            raise UserError(f"calendar {cfg.url}: {empty} is empty")
        client = _oauth[key] = OAuth2RefreshToken(
            cfg.oauth_token_url,
            cfg.oauth_client_id,
            secret,
            refresh,
            on_rotate=lambda token: store_refresh_token(path, token),
        )
    return client


def store_refresh_token(path: Path, token: str) -> None:
    """Replace the refresh-token file atomically (mode 0600). A read-only file (a systemd
    credential) keeps the token in memory only, with a warning saying what to do."""
    try:
        write_private(path, token + "\n", make_folder=False)
    except OSError as exc:
        log.warning(
            "the OAuth endpoint rotated the refresh token, but %s cannot be rewritten (%s);"
            " calbridge keeps the new one until it stops: point oauth_refresh_token_file"
            " at a writable file, e.g. under the state directory",
            path,
            exc.strerror or exc,
        )


def graph_auth(cfg: DavSettings) -> Auth | None:
    """A Graph calendar's credentials: the MSAL token cache ``calbridge auth graph`` wrote
    (kept for the process, like the OAuth clients), or a bearer token / refresh token."""
    client_id = getattr(cfg, "graph_client_id", None)
    token_file = getattr(cfg, "graph_token_file", None)
    if not (client_id and token_file):
        return auth_for(cfg)
    from calbridge.calendars.graphauth import GraphToken

    authority = str(getattr(cfg, "graph_authority", ""))
    key = (authority, client_id, str(token_file))
    found = _graph_tokens.get(key)
    if found is None:
        found = _graph_tokens[key] = GraphToken(client_id, authority, Path(token_file))
    return found


def schedule_auth(cfg: DavSettings, sessions: DavSettings | None) -> Auth | None:
    """A getSchedule source's credentials: its own, else the coach's Graph sign-in (the
    sessions calendar's), so one ``calbridge auth graph`` serves both."""
    own = graph_auth(cfg)
    if own is None and sessions is not None and kind_of(sessions) == "graph":
        return graph_auth(sessions)
    return own


def kind_of(cfg: DavSettings) -> str:
    """folder, ics, caldav or graph: the configuration may say; otherwise .ics and
    webcal:// are feeds."""
    kind = getattr(cfg, "kind", "auto")
    if kind != "auto":
        return str(kind)
    if not is_url(cfg.url):
        return "folder"
    path = cfg.url.split("?", 1)[0].lower()
    return "ics" if cfg.url.startswith("webcal") or path.endswith(".ics") else "caldav"


def open_store(
    cfg: DavSettings,
    *,
    read_only: bool = False,
    batch: int = 100,
    bounds: Bounds = DEFAULT,
    create: bool = True,
) -> CalendarStore:
    """A folder opens a vdir, a feed URL an ICS feed, any other URL a CalDAV collection.
    ``create``: a missing folder is made (never in a dry run)."""
    kind = kind_of(cfg)
    if kind == "folder":
        within = getattr(cfg, "_parents_within", None)
        key = getattr(cfg, "_key", "calendar url")
        return VdirStore(
            cfg.url, read_only=read_only, create=create, parents_within=within, key=key
        )
    if kind == "ics":
        return IcsFeedStore(cfg.url, auth_for(cfg), bounds=bounds)
    if kind == "graph":
        # Only a Graph calendar pays for the Graph modules' import (not every `calbridge sync`).
        from calbridge.calendars.graph import GraphStore

        return GraphStore(cfg.url, graph_auth(cfg), read_only=read_only)
    if not cfg.url.startswith(("http://", "https://")):
        raise UserError(f"calendar url {cfg.url!r}: use http(s):// or a folder path")
    auth = auth_for(cfg)
    url = _discovered.get(cfg.url)
    if url is None:
        url = _discovered[cfg.url] = discover(cfg.url, auth)
    return CalDAVStore(url, auth, read_only=read_only, batch_size=batch)


@contextmanager
def opened(
    cfg: DavSettings,
    *,
    read_only: bool = False,
    batch: int = 100,
    bounds: Bounds = DEFAULT,
    create: bool = True,
) -> Iterator[CalendarStore]:
    store = open_store(cfg, read_only=read_only, batch=batch, bounds=bounds, create=create)
    try:
        yield store
    finally:
        close = getattr(store, "close", None)
        if close is not None:
            close()
