"""Command-line shape of the waitlist (`waitlist add|list|remove`)."""

from __future__ import annotations

from calbridge.cli.parser_offers import Sub, _sub


def add(cmds: Sub) -> None:
    group = _sub(
        cmds,
        "waitlist",
        "clients waiting for a freed time with a coach: when a session is cancelled, an\n"
        "offer is declined or expires, or a closure is removed, the first fitting clients\n"
        "are offered the time (held as tentative); the first to accept gets it",
        json=False,
    )
    sub = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = _sub(sub, "add", "put a client on a coach's waitlist (after everyone already on it)")
    p.add_argument("--client", required=True, metavar="ID", help="the waiting client")
    p.add_argument("--coach", required=True, metavar="ID", help="the coach they wait for")
    p.add_argument(
        "--on",
        metavar="DAYS",
        help="only these weekdays, like mon,wed (default: any day the coach works)",
    )
    p.add_argument(
        "--between",
        metavar="HH:MM-HH:MM",
        help="only times wholly inside this daily window, in the coach's timezone",
    )
    p = _sub(sub, "list", "who waits, oldest first, and which times they were offered")
    p.add_argument("--coach", metavar="ID", help="only this coach's waitlist")
    p.add_argument(
        "--all", action="store_true", help="also those who booked a time or were removed"
    )
    p = _sub(sub, "remove", "take a client off the waitlist (an open offer is withdrawn)")
    p.add_argument("id", type=int, help="the waitlist entry (see `waitlist list`)")
