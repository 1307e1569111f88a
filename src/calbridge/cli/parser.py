"""The command line's shape: every command, flag and help text (the stable interface)."""

from __future__ import annotations

import argparse
from typing import TypeAlias

from calbridge import __version__
from calbridge.cli import parser_daemon, parser_offers
from calbridge.cli.lazyparse import OnlySubparsers

DESCRIPTION = """\
calbridge keeps a practice's session book and bridges it to coaches' calendars.

Times are ISO 8601 (2026-03-02T10:00), read in the coach's timezone unless they
carry an offset; dates are YYYY-MM-DD and months YYYY-MM.
Exit status: 0 done, 1 refused by a rule (monthly limit, availability, ...),
2 bad usage or configuration."""


class _Formatter(argparse.RawDescriptionHelpFormatter):
    pass


def _json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")


def _sub(
    parent: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    text: str,
    json: bool = True,
) -> argparse.ArgumentParser:
    p = parent.add_parser(name, help=text, description=text, formatter_class=_Formatter)
    if json:
        _json(p)
    return p


def _actor(p: argparse.ArgumentParser, text: str) -> None:
    p.add_argument("--by", choices=["coach", "client", "admin"], default="admin", help=text)


def build(only: str | None = None, every: bool = True) -> argparse.ArgumentParser:
    """The whole command line; with ``every=False`` only command ``only`` gets its flags
    (the others their name and help: cli/lazyparse.py)."""
    root = argparse.ArgumentParser(
        prog="calbridge", description=DESCRIPTION, formatter_class=_Formatter
    )
    root.register("action", "parsers", OnlySubparsers)
    root.add_argument(
        "--config",
        metavar="PATH",
        help="configuration file (default: $CALBRIDGE_CONFIG, then /etc/calbridge/config.toml)",
    )
    root.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    root.add_argument("--version", action="version", version=f"calbridge {__version__}")
    cmds = root.add_subparsers(dest="command", metavar="COMMAND")
    assert isinstance(cmds, OnlySubparsers)
    cmds.only, cmds.building_all = only, every

    _sub(cmds, "check-config", "check the configuration and report every problem at once")
    _clients(cmds)
    _third_parties(cmds)
    session_actions = _sessions(cmds)
    from calbridge.cli import parser_session_edit

    parser_session_edit.add(session_actions)
    # Areas add their own commands here (their parsers live in cli/parser_<area>.py).
    from calbridge.cli import parser_outcomes  # imports this module: imported here

    parser_outcomes.add(cmds, session_actions)
    parser_offers.add_offer_commands(cmds, session_actions)
    from calbridge.cli import parser_mail

    parser_mail.add(cmds, session_actions)
    from calbridge.cli import parser_inbound

    parser_inbound.add(cmds)
    _closures(cmds)
    parser_daemon.add(cmds)
    from calbridge.cli import parser_auth

    parser_auth.add(cmds)
    from calbridge.cli import parser_admin

    parser_admin.add(cmds)
    from calbridge.cli import parser_waitlist

    parser_waitlist.add(cmds)

    p = _sub(cmds, "slots", "list free slots that respect availability, policies and the limit")
    p.add_argument("--coach", required=True, metavar="ID")
    p.add_argument("--client", required=True, metavar="ID")
    p.add_argument("--month", metavar="MONTH", help="YYYY-MM (default: first month with room)")
    p.add_argument("--duration", type=int, metavar="MINUTES", help="slot length")
    p.add_argument("--service", metavar="NAME", help="whose [policies] apply (a [services] key)")

    p = _sub(cmds, "sync", "one two-way sync pass with the coaches' calendars")
    p.add_argument("--coach", metavar="ID", help="only this coach's calendar")
    p.add_argument("--dry-run", action="store_true", help="show what would change; change nothing")
    held = p.add_mutually_exclusive_group()
    held.add_argument(
        "--restore",
        action="store_const",
        const="restore",
        dest="decision",
        help="a calendar held by the mass-deletion guard: write the book's events back",
    )
    held.add_argument(
        "--accept-deletions",
        action="store_const",
        const="accept",
        dest="decision",
        help="a calendar held by the mass-deletion guard: the events were deleted on"
        " purpose; cancel their sessions and tell the clients",
    )

    p = _sub(cmds, "agenda", "what is coming up, as a list or a week")
    who = p.add_mutually_exclusive_group()
    who.add_argument("--coach", metavar="ID")
    who.add_argument("--client", metavar="ID")
    view = p.add_mutually_exclusive_group()
    view.add_argument("--list", action="store_true", help="a list (the default)")
    view.add_argument(
        "--week",
        nargs="?",
        const="",
        metavar="DATE",
        help="the week (Mon-Sun) holding DATE (default: this week)",
    )
    span = p.add_mutually_exclusive_group()
    span.add_argument("--next", action="store_true", help="the next 10 sessions (default)")
    span.add_argument("--all", action="store_true", help="every future session")
    _global_flags_anywhere(root)
    return root


def _global_flags_anywhere(p: argparse.ArgumentParser) -> None:
    """`--config` and `-v` are read after the subcommand too (`check-config --config X`)."""
    for action in p._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        for sub in action.choices.values():
            sub.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS, help="as above")
            sub.add_argument(
                "-v", "--verbose", action="count", default=argparse.SUPPRESS, help=argparse.SUPPRESS
            )
            _global_flags_anywhere(sub)


def _clients(cmds: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = _sub(cmds, "client", "add, list, show, edit and archive clients", json=False)
    sub = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = _sub(sub, "add", "add a client")
    p.add_argument("--name", required=True)
    p.add_argument("--email", required=True)
    p.add_argument("--program", required=True, help="a program from [programs] in the config")
    p.add_argument("--id", help="stable id (default: made from the name)")
    _channel(p)
    p = _sub(sub, "list", "list clients (archived ones only with --all)")
    p.add_argument("--all", action="store_true", help="archived clients too")
    p = _sub(sub, "show", "show one client")
    p.add_argument("id")
    p = _sub(sub, "edit", "change a client's name, email, program, phone or channel")
    p.add_argument("id")
    p.add_argument("--name")
    p.add_argument("--email")
    p.add_argument("--program")
    _channel(p)
    from calbridge.cli import parser_admin

    parser_admin.party_actions(sub, "client", "client")
    from calbridge.cli import parser_links

    parser_links.client_link(sub)


def _channel(p: argparse.ArgumentParser) -> None:
    p.add_argument("--phone", help='mobile number for texts, e.g. +447700900123 ("" removes it)')
    p.add_argument(
        "--notify", choices=["email", "sms", "both"], help="how they are told (default: email)"
    )
    _timezone(p)


def _timezone(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--timezone",
        metavar="ZONE",
        help='IANA zone their mail and texts show times in, e.g. Europe/Berlin ("" or'
        " default: their coach's)",
    )


def _third_parties(cmds: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = _sub(
        cmds,
        "third-party",
        "add, list, edit and archive third parties (optional participants)",
        json=False,
    )
    sub = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = _sub(sub, "add", "add a third party")
    p.add_argument("--name", required=True)
    p.add_argument("--email", required=True)
    p.add_argument("--id")
    _channel(p)
    p = _sub(sub, "list", "list third parties (archived ones only with --all)")
    p.add_argument("--all", action="store_true", help="archived third parties too")
    from calbridge.cli import parser_admin

    parser_admin.party_actions(sub, "third party", "third-party")


Sub: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def _sessions(cmds: Sub) -> Sub:
    group = _sub(cmds, "session", "plan, move, answer, cancel, show and list sessions", json=False)
    sub = group.add_subparsers(dest="action", metavar="ACTION", required=True)

    p = _sub(sub, "plan", "plan a session or a series (refused if it breaks a rule)")
    p.add_argument("--coach", required=True, metavar="ID")
    p.add_argument(
        "--client",
        action="append",
        default=[],
        metavar="ID",
        help="a client (repeat for a group session)",
    )
    p.add_argument("--third-party", action="append", default=[], metavar="ID")
    p.add_argument(
        "--start",
        metavar="TIME",
        help="start (default: first free slot in the first month with room)",
    )
    length = p.add_mutually_exclusive_group()
    length.add_argument("--end", metavar="TIME")
    length.add_argument("--duration", type=int, metavar="MINUTES")
    p.add_argument("--kind", choices=["client", "video", "non-client", "team"], default="client")
    p.add_argument("--indirect", action="store_true", help="indirect work (no client present)")
    p.add_argument("--note", default="", help="public note, shown to every participant")
    p.add_argument("--private-note", default="", help="kept in the book, never sent")
    remind = p.add_mutually_exclusive_group()
    remind.add_argument(
        "--remind", dest="remind", action="store_true", default=False, help="email reminders"
    )
    remind.add_argument("--no-remind", dest="remind", action="store_false", help="(the default)")
    p.add_argument(
        "--override-availability",
        action="store_true",
        help="plan into busy time (never into a closure or a full month)",
    )
    _actor(p, "who asked for it; the other side must accept")
    p.add_argument(
        "--record",
        action="store_true",
        help="record a session that happened: --start in the past (refused without this"
        " flag), kept as scheduled, no invitations sent",
    )
    p.add_argument("--repeat", choices=["weekly", "monthly"], help="make a series")
    p.add_argument("--on", metavar="DAYS", help="weekdays of the series, e.g. mon,wed")
    end = p.add_mutually_exclusive_group()
    end.add_argument("--count", type=int, metavar="N", help="occurrences, the first included")
    end.add_argument("--until", metavar="DATE", help="last day of the series")

    p = _sub(
        sub,
        "edit",
        "move a session (the other side must accept again), or change its notes, kind,"
        " direct/indirect, service, reminders, clients or third parties",
    )
    p.add_argument("id", type=int)
    p.add_argument("--start", metavar="TIME", help="new start (keeps the length)")
    length = p.add_mutually_exclusive_group()
    length.add_argument("--end", metavar="TIME", help="new end")
    length.add_argument("--duration", type=int, metavar="MINUTES", help="new length")
    p.add_argument(
        "--client-requested",
        action="store_true",
        help="the new time was agreed with the client: confirmed at once",
    )
    p.add_argument(
        "--override-availability",
        action="store_true",
        help="move into busy time (never into a closure or a full month)",
    )
    _actor(p, "who made the change")

    p = _sub(sub, "answer", "record an acceptance or a decline")
    p.add_argument("id", type=int)
    verdict = p.add_mutually_exclusive_group(required=True)
    verdict.add_argument("--accept", action="store_true")
    verdict.add_argument("--decline", action="store_true")
    _actor(p, "who answers")
    p.add_argument(
        "--client", metavar="ID", help="which client answers (needed with --by client on a group)"
    )

    p = _sub(sub, "cancel", "cancel a session, or it and all later ones of its series")
    p.add_argument("id", type=int)
    p.add_argument("--following", action="store_true", help="this and all following")
    p.add_argument("--reason")
    _actor(p, "who cancels")

    p = _sub(sub, "show", "show one session with its audit trail")
    p.add_argument("id", type=int)

    p = _sub(sub, "list", "list sessions, past and future, any status")
    p.add_argument("--coach", metavar="ID")
    p.add_argument("--client", metavar="ID")
    p.add_argument("--from", dest="from_", metavar="DATE")
    p.add_argument("--to", metavar="DATE", help="last day included")
    return sub


def _closures(cmds: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = _sub(
        cmds, "closure", "close dates (holiday, bad weather) for one coach or all", json=False
    )
    sub = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = _sub(sub, "add", "add a closure; preview first with --dry-run")
    p.add_argument("--from", dest="from_", required=True, metavar="DATE")
    p.add_argument("--to", required=True, metavar="DATE", help="last closed day")
    p.add_argument("--coach", metavar="ID", help="default: the whole practice")
    p.add_argument("--reason", required=True)
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument(
        "--dry-run",
        dest="mode",
        action="store_const",
        const="dry-run",
        help="list the sessions it would hit; change nothing",
    )
    mode.add_argument(
        "--notify-and-cancel",
        dest="mode",
        action="store_const",
        const="notify-and-cancel",
        help="cancel them and tell participants",
    )
    mode.add_argument(
        "--cancel-only",
        dest="mode",
        action="store_const",
        const="cancel-only",
        help="cancel them without telling anyone",
    )
    mode.add_argument(
        "--notify-only",
        dest="mode",
        action="store_const",
        const="notify-only",
        help="tell participants, keep the sessions",
    )
    from calbridge.cli import parser_admin

    parser_admin.closure_actions(sub)
