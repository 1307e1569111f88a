"""Command-line shape of outcomes, completion types, notes and reports (issue 6)."""

from __future__ import annotations

import argparse

from calbridge.cli.parser import Sub, _actor, _sub
from calbridge.core.outcomes import Outcome

OUTCOMES = ", ".join(o.value for o in Outcome)


def _select(p: argparse.ArgumentParser) -> None:
    p.add_argument("ids", nargs="*", type=int, metavar="ID", help="sessions by id")
    p.add_argument("--coach", metavar="ID", help="or: this coach's sessions ...")
    p.add_argument("--from", dest="from_", metavar="DATE", help="... from this day ...")
    p.add_argument("--to", metavar="DATE", help="... to this day (included)")
    p.add_argument("--dry-run", action="store_true", help="show what would change; change nothing")


def _money(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cost", metavar="AMOUNT", help="override what the client pays (audited)")
    p.add_argument("--wage", metavar="AMOUNT", help="override what the coach is paid (audited)")
    p.add_argument("--service", metavar="NAME", help="price with this service from [services]")


def add_session_actions(sub: Sub) -> None:
    p = _sub(
        sub,
        "complete",
        "save what happened in sessions and the money it produces (all or nothing)",
    )
    _select(p)
    p.add_argument("--type", metavar="TYPE", help="completion type (see completion-type list)")
    p.add_argument("--outcome", metavar="OUTCOME", help=f"what happened: {OUTCOMES}")
    _money(p)
    _actor(p, "who records it")

    p = _sub(
        sub,
        "cancel-many",
        "cancel sessions with a cancellation outcome (late within the notice period)",
    )
    _select(p)
    p.add_argument(
        "--outcome",
        choices=["cancelled", "late-cancellation"],
        help="default: late-cancellation within [policies] cancel_deadline_hours, else cancelled",
    )
    p.add_argument("--type", metavar="TYPE", help="completion type (default: by outcome)")
    p.add_argument("--reason")
    _money(p)
    _actor(p, "who cancels")

    p = _sub(sub, "retype", "give completed sessions another completion type (re-priced)")
    _select(p)
    p.add_argument("--type", metavar="TYPE", required=True)
    _money(p)
    _actor(p, "who changes it")

    p = _sub(sub, "note", "write (or edit) a session's note; --sign locks it after 24 h")
    p.add_argument("id", type=int)
    p.add_argument("--text", required=True)
    p.add_argument("--sign", action="store_true", help="sign it (editable 24 h, then locked)")
    _actor(p, "who writes it")

    p = _sub(sub, "comment", "add a comment to a session (also to a locked note)")
    p.add_argument("id", type=int)
    p.add_argument("--text", required=True)
    _actor(p, "who writes it")

    p = _sub(sub, "record", "a session's outcome, money, note and comments")
    p.add_argument("id", type=int)


def add_commands(cmds: Sub) -> None:
    group = _sub(cmds, "completion-type", "completion types: what outcomes cost and pay", False)
    sub = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = _sub(sub, "add", "add a completion type")
    p.add_argument("--label", required=True, help="at most 15 characters")
    p.add_argument("--description", required=True)
    p.add_argument("--maps-to", required=True, choices=["completed", "cancelled", "missed"])
    _modifiers(p)
    _sub(sub, "list", "list completion types (built-in ones first)")
    p = _sub(sub, "edit", "change a completion type (saved sessions keep their money)")
    p.add_argument("label")
    p.add_argument("--description")
    p.add_argument("--maps-to", choices=["completed", "cancelled", "missed"])
    _modifiers(p)
    for name, text in (
        ("enable", "offer a disabled type again"),
        ("disable", "stop offering a type (saved sessions keep it)"),
        ("remove", "delete a type (saved sessions keep their copy)"),
    ):
        p = _sub(sub, name, text)
        p.add_argument("label")

    p = _sub(cmds, "report", "client balances, coach wages or support hours of a month or week")
    p.add_argument("kind", choices=["balances", "wages", "hours"])
    when = p.add_mutually_exclusive_group(required=True)
    when.add_argument("--month", metavar="MONTH", help="YYYY-MM")
    when.add_argument("--week", metavar="DATE", help="the week (Mon-Sun) holding DATE")
    p.add_argument("--coach", metavar="ID", help="only this coach's sessions")
    p.add_argument("--csv", action="store_true", help="print CSV")


def _modifiers(p: argparse.ArgumentParser) -> None:
    p.add_argument("--client-percent", metavar="N", help="client pays N %% of the service fee")
    p.add_argument("--client-fixed", metavar="AMOUNT", help="client pays exactly AMOUNT")
    p.add_argument("--coach-percent", metavar="N", help="coach is paid N %% of the service wage")
    p.add_argument("--coach-fixed", metavar="AMOUNT", help="coach is paid exactly AMOUNT")


def add_plan_service(sub: Sub) -> None:
    """``session plan --service NAME``: the service a session is priced with."""
    sub.choices["plan"].add_argument(
        "--service", metavar="NAME", help="service from [services] (default: the configured one)"
    )


def add(cmds: Sub, sessions: Sub) -> None:
    add_session_actions(sessions)
    add_plan_service(sessions)
    add_commands(cmds)
