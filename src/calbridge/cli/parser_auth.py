"""``calbridge auth``: sign a coach's calendar in, without a browser on the server."""

from __future__ import annotations

import argparse


def add(cmds: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    text = "sign a coach's calendar in to Microsoft or Google (no browser on the server)"
    group = cmds.add_parser("auth", help=text, description=text)
    sub = group.add_subparsers(dest="action", metavar="PROVIDER", required=True)
    text = (
        "Microsoft 365 / Outlook.com: the device-code flow; the token cache is written to the"
        " coach's [coaches.calendar] graph_token_file (mode 0600)"
    )
    p = sub.add_parser("graph", help=text, description=text)
    p.add_argument("--coach", required=True, metavar="ID")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    text = (
        "Google Calendar (CalDAV): prints Google's sign-in address, waits for its redirect on"
        " 127.0.0.1:PORT (tunnel it with ssh -L) or for the address pasted on standard input,"
        " and writes the refresh token to oauth_refresh_token_file (mode 0600)"
    )
    p = sub.add_parser("google", help=text, description=text)
    p.add_argument("--coach", required=True, metavar="ID")
    p.add_argument(
        "--port",
        type=int,
        default=8085,
        help="loopback port for Google's redirect (default 8085; 0: any free port)",
    )
    p.add_argument(
        "--timeout", type=float, default=600, help="seconds to wait for the answer (600)"
    )
    p.add_argument(
        "--no-paste", action="store_true", help="do not read a pasted address from stdin"
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
