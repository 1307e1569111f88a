"""The mail area's commands: `mail send`, `mail outbox`, and reminders on `session edit`."""

from __future__ import annotations

import argparse

from calbridge.cli.parser import Sub, _sub


def add(cmds: Sub, session_actions: Sub) -> None:
    group = _sub(cmds, "mail", "send queued mail and look at the outbox", json=False)
    sub = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = _sub(
        sub,
        "send",
        "one pass: queue due reminders, then send every due mail ([mail]) and text ([sms])",
    )
    p.add_argument("--limit", type=int, default=100, metavar="N", help="at most N messages")
    p.add_argument(
        "--channel", choices=["mail", "sms"], help="only this channel (default: mail and texts)"
    )
    p.add_argument(
        "--dry-run", action="store_true", help="list what is due and would be sent; change nothing"
    )
    p = _sub(sub, "outbox", "list messages not sent yet (queued, sending) and failed ones")
    p.add_argument("--all", action="store_true", help="also sent and dropped messages")
    _edit_reminders(session_actions.choices["edit"])


def _edit_reminders(edit: argparse.ArgumentParser) -> None:
    remind = edit.add_mutually_exclusive_group()
    remind.add_argument(
        "--remind", dest="remind", action="store_true", default=None, help="send reminders"
    )
    remind.add_argument("--no-remind", dest="remind", action="store_false", help="no reminders")
