"""``client link show|revoke``: a client's page link (book/client_links.py)."""

from __future__ import annotations

import argparse

from calbridge.book import Book, client_links
from calbridge.cli.handlers import Handler, Output


def client_link(book: Book, a: argparse.Namespace) -> Output:
    if a.link_action == "revoke":
        data = client_links.revoke(book, a.client)
        url = data["url"] or "(none: the client is archived)"
        return Output(data, f"every earlier link of {a.client} is void; the new one:\n{url}")
    data = client_links.show(book, a.client)
    return Output(data, data["url"])


HANDLERS: dict[tuple[str, str | None], Handler] = {("client", "link"): client_link}
