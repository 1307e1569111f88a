"""Command-line shape of offers, feeds and the HTTP server (`session offer`, `offer`,
`feed`, `serve`)."""

from __future__ import annotations

import argparse
from typing import TypeAlias

Sub: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def _json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")


def _sub(parent: Sub, name: str, text: str, json: bool = True) -> argparse.ArgumentParser:
    p = parent.add_parser(
        name, help=text, description=text, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    if json:
        _json(p)
    return p


def add_offer_commands(cmds: Sub, session_actions: Sub) -> None:
    p = _sub(
        session_actions,
        "offer",
        "offer the client other times: each is held in the coach's calendar (tentative)\n"
        "and the client gets one email with one link per time and a reject link",
    )
    p.add_argument("id", type=int, help="the session the coach cannot make")
    p.add_argument(
        "--at",
        action="append",
        required=True,
        metavar="TIME",
        help="an offered start (repeat for each time); the session keeps its length",
    )
    p.add_argument(
        "--hold-hours",
        type=float,
        metavar="H",
        help="how long the times are held (default: [offers] hold_hours, 24)",
    )
    p.add_argument(
        "--override-availability",
        action="store_true",
        help="offer busy times too (never a closure or a full month)",
    )

    group = _sub(cmds, "offer", "list, show, cancel and expire offers", json=False)
    sub = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = _sub(
        sub,
        "expire",
        "release the holds of every offer past its deadline (the daemon does this on\n"
        "each pass; also safe to run from cron)",
    )
    p.add_argument("--dry-run", action="store_true", help="count what is due; change nothing")
    from calbridge.cli import parser_admin

    parser_admin.offer_actions(sub)

    group = _sub(cmds, "feed", "read-only ICS feeds for calendar subscriptions", json=False)
    sub = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = _sub(sub, "url", "print the secret subscription URL of a coach's or client's feed")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--coach", metavar="ID")
    who.add_argument("--client", metavar="ID")

    p = _sub(
        cmds,
        "serve",
        "run only the HTTP server (offer links, feeds) until Ctrl-C or SIGTERM",
        json=False,
    )
    p.add_argument("--listen", metavar="HOST:PORT", help="default: [http] listen")
