"""The admin's side of clients' page links: show a client's current link, or revoke
every link they were ever sent (the version signed into links goes up by one).
Every mail to a client carries the link (``mail.client_link``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from calbridge.book.context import Book
from calbridge.config.schema import Settings
from calbridge.config.secret import load_secret
from calbridge.core.model import Actor
from calbridge.core.tokens import sign_client
from calbridge.errors import Refused
from calbridge.store import repo, repo_clientpage
from calbridge.store.db import Db


def show(book: Book, client_id: str) -> dict[str, Any]:
    with book.transaction() as db:
        repo.client(db, client_id)  # unknown: NotFound
        url = client_url(book.settings, db, client_id)
        if url is None:
            raise Refused("archived", f"client {client_id} is archived: their link is off")
        return {"client": client_id, "url": url}


def revoke(book: Book, client_id: str) -> dict[str, Any]:
    """Void every link sent so far; mails from now on carry the new one (shown)."""
    with book.transaction() as db:
        repo.client(db, client_id)
        version = repo_clientpage.bump_link(db, client_id)
        changes = {"link_version": version}
        repo.audit(
            db, book.clock(), "client", client_id, "link-revoked", Actor.ADMIN, book.origin, changes
        )
        url = client_url(book.settings, db, client_id)
        return {"client": client_id, "revoked": True, "url": url}


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
