"""The admin's side of clients' page links: show a client's current link, or revoke
every link they were ever sent (the version signed into links goes up by one).
Every mail to a client carries the link (``mail.client_link``; built by
``events.links``)."""

from __future__ import annotations

from typing import Any

from calbridge.book.context import Book
from calbridge.core.model import Actor
from calbridge.errors import Refused
from calbridge.events.links import client_url
from calbridge.store import repo, repo_clientpage


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
