"""Command-line shape of inbound iMIP: `inbound` (one pass over the mailbox) and
`counter list|accept|decline` (clients' counter-proposals left for the admin)."""

from __future__ import annotations

from calbridge.cli.parser import Sub, _sub


def add(cmds: Sub) -> None:
    _sub(
        cmds,
        "inbound",
        "one pass over the [inbound] mailbox: apply every REPLY, COUNTER and REFRESH,\n"
        "file the rest in the rejected folder (the daemon does this continuously)",
    )
    group = _sub(
        cmds,
        "counter",
        "clients' requests for another time left for the admin: counter-proposals (COUNTER)\n"
        'and times asked for on the client page ([policies] page_move = "coach")',
        json=False,
    )
    sub = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = _sub(sub, "list", "list requests waiting for an answer (from: mail or page)")
    p.add_argument("--all", action="store_true", help="also accepted and declined ones")
    p = _sub(sub, "accept", "move the session as proposed (checked like a client-requested move)")
    p.add_argument("id", type=int)
    p = _sub(
        sub,
        "decline",
        "refuse: a DECLINECOUNTER to the client's calendar app (from mail), or a mail\n"
        "and a note on their page (from page)",
    )
    p.add_argument("id", type=int)
    p.add_argument("--reason", help="told to the client")
