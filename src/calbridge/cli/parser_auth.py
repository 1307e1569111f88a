"""``calbridge auth``: sign a coach's calendar in, without a browser on the server."""

from __future__ import annotations

import argparse


def add(cmds: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    text = "sign a coach's calendar in (OAuth device code: open a page on any device)"
    group = cmds.add_parser("auth", help=text, description=text)
    sub = group.add_subparsers(dest="action", metavar="PROVIDER", required=True)
    text = (
        "Microsoft 365 / Outlook.com: the device-code flow; the token cache is written to the"
        " coach's [coaches.calendar] graph_token_file (mode 0600)"
    )
    p = sub.add_parser("graph", help=text, description=text)
    p.add_argument("--coach", required=True, metavar="ID")
    p.add_argument("--json", action="store_true", help="machine-readable output")
