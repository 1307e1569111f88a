"""`session edit` beyond the time: notes, kind, direct/indirect, service, participants."""

from __future__ import annotations

from calbridge.cli.parser import Sub
from calbridge.core.model import Kind


def add(session_actions: Sub) -> None:
    p = session_actions.choices["edit"]
    p.add_argument(
        "--note",
        metavar="TEXT",
        help='public note, shown to every participant ("" clears it); mails nothing,'
        " the coach's calendar follows on the next sync",
    )
    p.add_argument("--private-note", metavar="TEXT", help="kept in the book, never sent")
    p.add_argument(
        "--kind",
        choices=[k.value for k in Kind],
        help="client <-> video, or non-client <-> team (a client session stays one)",
    )
    work = p.add_mutually_exclusive_group()
    work.add_argument(
        "--direct",
        dest="direct",
        action="store_true",
        default=None,
        help="direct work: uses the clients' sessions (their monthly limit is checked again)",
    )
    work.add_argument(
        "--indirect",
        dest="direct",
        action="store_false",
        help="indirect work (no client present): does not use the clients' sessions",
    )
    p.add_argument(
        "--service",
        metavar="NAME",
        help="service from [services]; the session is priced with it when completed",
    )
    seats = {
        "--add-client": "invite a client (repeat for more): only they get an invitation;"
        " their monthly limit and archive state are checked",
        "--remove-client": "take a client off (repeat for more): only they get a"
        " cancellation; the last client cannot go (cancel the session instead)",
        "--add-third-party": "invite a third party (repeat for more): only they get an invitation",
        "--remove-third-party": "take a third party off (repeat for more): only they get a"
        " cancellation",
    }
    for flag, text in seats.items():
        p.add_argument(flag, action="append", default=[], metavar="ID", help=text)
    p.add_argument(
        "--series",
        action="store_true",
        help="with the participant flags: add or take off in every occurrence still to come"
        " of the series ID belongs to (each one joined counts in its month); without it,"
        " an occurrence's participants change in that occurrence only",
    )
