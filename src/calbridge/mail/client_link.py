"""The link to a client's own page that every mail to a client carries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from calbridge.config.schema import Settings
from calbridge.core.model import Role, Session
from calbridge.events.links import client_url
from calbridge.mail.bodies import Body
from calbridge.mail.offer_message import PAGE_INVITE
from calbridge.store.db import Db

ROUTE = "/client/{ident}/{token}"
INVITE = PAGE_INVITE


def added(
    settings: Settings, db: Db, body: Body, party: str | None, rows: Sequence[Session]
) -> Body:
    """``body`` with the link to the page of ``party`` when they are a client of ``rows``."""
    clients = {p.party_id for r in rows for p in r.participants if p.role is Role.CLIENT}
    if party is None or party not in clients:
        return body
    url = client_url(settings, db, party)
    return replace(body, link=(INVITE, url)) if url else body
