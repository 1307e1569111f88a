"""The shape of ``client link show|revoke``."""

from __future__ import annotations

import argparse

Sub = argparse._SubParsersAction[argparse.ArgumentParser]


def client_link(sub: Sub) -> None:
    text = "a client's page link (their sessions: answer, cancel, move)"
    group = sub.add_parser("link", help=text, description=text)
    links = group.add_subparsers(dest="link_action", metavar="ACTION", required=True)
    for name, help_ in (
        ("show", "print the client's current page link (as mails carry it)"),
        ("revoke", "void every link the client was sent; print the new one"),
    ):
        p = links.add_parser(name, help=help_, description=help_)
        p.add_argument("--client", required=True, metavar="ID")
        p.add_argument("--json", action="store_true", help="print machine-readable JSON")
