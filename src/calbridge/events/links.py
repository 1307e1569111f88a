"""The link to a client's own page, as every mail to a client and the admin's `client
link` commands give it: signed with the practice's key (``config.secret``) and the
client's link version (raised by `client link revoke`, ``book.client_links``)."""

from __future__ import annotations

from urllib.parse import quote

from calbridge.config.schema import Settings
from calbridge.config.secret import load_secret
from calbridge.core.tokens import sign_client
from calbridge.store import repo_clientpage
from calbridge.store.db import Db


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
