"""Command-line shape of a practice's housekeeping: closures, archived clients and third
parties, offers, reminders and series."""

from __future__ import annotations

import argparse

from calbridge.cli.parser_offers import Sub, _sub

#: What an offer can be (tables_offers.OfferRow.state; `offer cancel` makes "cancelled").
OFFER_STATES = ("open", "accepted", "rejected", "expired", "withdrawn", "cancelled")


def _id(p: argparse.ArgumentParser, text: str) -> None:
    p.add_argument("id", type=_number, metavar="ID", help=text)


def _number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value < 2**31:
        raise argparse.ArgumentTypeError(f"{text} is not an id (a positive number)")
    return value


def closure_actions(sub: Sub) -> None:
    p = _sub(sub, "list", "list closures (every closure, past and future)")
    p.add_argument("--coach", metavar="ID", help="only those that close this coach")
    p = _sub(
        sub,
        "remove",
        "remove a closure: its days can be planned again and its all-day events leave\n"
        "the calendars on the next sync (sessions it cancelled stay cancelled)",
    )
    _id(p, "the closure's number (from `closure list`)")


def party_actions(sub: Sub, what: str, kind: str) -> None:
    """``archive`` and ``unarchive`` of a client or third party; ``edit`` of a third party
    (a client's edit lives with the other client commands)."""
    p = _sub(
        sub,
        "archive",
        f"archive a {what}: kept with their history and in reports, but not planned or\n"
        f"offered times until unarchived; hidden from `{kind} list` without --all",
    )
    p.add_argument("id", help=f"the {what}'s id")
    p = _sub(sub, "unarchive", f"make an archived {what} plannable again")
    p.add_argument("id", help=f"the {what}'s id")
    if kind == "third-party":
        p = _sub(sub, "edit", "change a third party's name, email, phone or channel")
        p.add_argument("id")
        p.add_argument("--name")
        p.add_argument("--email")
        p.add_argument("--phone", help='mobile number for texts ("" removes it)')
        p.add_argument("--notify", choices=["email", "sms", "both"], help="how they are told")
        from calbridge.cli.parser import _timezone

        _timezone(p)


def offer_actions(sub: Sub) -> None:
    p = _sub(sub, "list", "list offers, newest last, with their state and times")
    p.add_argument("--state", choices=OFFER_STATES, help="only offers in this state")
    p.add_argument("--session", type=_number, metavar="ID", help="only this session's offers")
    p = _sub(
        sub,
        "show",
        "show one offer with its links, signed again exactly as mailed (for a client\n"
        "who lost the email; a closed offer's links no longer work and are not shown)",
    )
    _id(p, "the offer's number (from `offer list`)")
    p = _sub(
        sub,
        "cancel",
        "cancel an open offer: its holds are released (they leave the coach's calendar\n"
        "on the next sync), its links stop working and the client is emailed; the\n"
        "session keeps its time",
    )
    _id(p, "the offer's number (from `offer list`)")
    p.add_argument("--reason", help="a line added to the client's email")


def add(cmds: Sub) -> None:
    """Top-level housekeeping commands: `reminder`, `series`."""
    group = _sub(cmds, "reminder", "see the reminders to come", json=False)
    sub = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = _sub(
        sub,
        "list",
        "what reminders are coming, when and for whom: 'queued' ones wait in the outbox;\n"
        "'planned' ones are queued by the first pass (run, mail send) after their due time",
    )
    p.add_argument("--coach", metavar="ID", help="only this coach's sessions")
    p.add_argument("--session", type=_number, metavar="ID", help="only this session")

    group = _sub(cmds, "series", "show, enable and disable a series of sessions", json=False)
    sub = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = _sub(sub, "show", "show a series: its rule, whether it is enabled, every occurrence")
    _id(p, "the series' number (the [series N] of `session list`)")
    p = _sub(
        sub,
        "disable",
        "disable a series: nothing new is planned, mirrored or mailed for it (no\n"
        "reminders; the calendars keep the events they have) until it is enabled",
    )
    _id(p, "the series' number")
    p = _sub(
        sub,
        "enable",
        "enable a series again: reminders resume and the next sync brings its events\n"
        "in the calendars up to date",
    )
    _id(p, "the series' number")
