"""``calbridge run``: the daemon's command line."""

from __future__ import annotations

import argparse


def add(cmds: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    text = (
        "run the service: sync every coach's calendars on their interval, run periodic jobs"
        " and serve HTTP (/healthz, /metrics, /status) until SIGTERM; SIGHUP reloads the"
        " configuration"
    )
    p = cmds.add_parser("run", help=text, description=text)
    p.add_argument(
        "--once", action="store_true", help="one full cycle (every calendar, every job), then exit"
    )
    p.add_argument(
        "--log-json", action="store_true", default=None, help="log one JSON object per line"
    )
    p.add_argument(
        "--log-level",
        choices=["debug", "info", "warning", "error"],
        help="lowest level logged (default: service.log_level)",
    )
