"""The link to a client's own page that every mail to a client carries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from urllib.parse import quote

from calbridge.config.schema import Settings
from calbridge.config.secret import load_secret
from calbridge.core.model import Role, Session
from calbridge.core.tokens import sign_client
from calbridge.mail.bodies import Body
from calbridge.mail.offer_message import PAGE_INVITE
from calbridge.store import repo_clientpage
from calbridge.store.db import Db

ROUTE = "/client/{ident}/{token}"
INVITE = PAGE_INVITE


def page_url(settings: Settings, secret: bytes, client_id: str, version: int) -> str:
    token = sign_client(secret, client_id, version)
    base = settings.http.public_url.rstrip("/")
    return f"{base}/client/{quote(client_id, safe='')}/{token}"


def client_url(settings: Settings, db: Db, client_id: str) -> str | None:
    """The client's current link; None for an unknown or archived client."""
    row = repo_clientpage.link_client(db, client_id)
    if row is None or row.archived_at is not None:
        return None
    return page_url(settings, load_secret(settings), row.id, row.link_version)


def added(
    settings: Settings, db: Db, body: Body, party: str | None, rows: Sequence[Session]
) -> Body:
    """``body`` with the link to the page of ``party`` when they are a client of ``rows``."""
    clients = {p.party_id for r in rows for p in r.participants if p.role is Role.CLIENT}
    if party is None or party not in clients:
        return body
    url = client_url(settings, db, party)
    return replace(body, link=(INVITE, url)) if url else body
