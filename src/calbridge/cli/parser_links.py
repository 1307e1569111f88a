"""The shape of ``client link show|revoke``."""

from __future__ import annotations

from calbridge.cli.parser_offers import Sub, _sub


def client_link(sub: Sub) -> None:
    group = _sub(sub, "link", "a client's page link (their sessions: answer, cancel, move)", False)
    links = group.add_subparsers(dest="link_action", metavar="ACTION", required=True)
    for name, text in (
        ("show", "print the client's current page link (as mails carry it)"),
        ("revoke", "void every link the client was sent; print the new one"),
    ):
        _sub(links, name, text).add_argument("--client", required=True, metavar="ID")
