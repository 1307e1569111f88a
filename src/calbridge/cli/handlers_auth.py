"""``calbridge auth graph``: the device-code sign-in, its message on stderr."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from calbridge.book import Book
from calbridge.errors import UserError

if TYPE_CHECKING:
    from calbridge.cli.handlers import Output


def graph(book: Book, a: argparse.Namespace) -> Output:
    from calbridge.calendars.graphauth import device_sign_in
    from calbridge.cli.handlers import Output

    coach = book.coach(a.coach)
    cfg = coach.calendar
    if cfg is None or getattr(cfg, "kind", "auto") != "graph":
        raise UserError(f'coach {coach.id}: [coaches.calendar] needs kind = "graph"')
    if not cfg.graph_client_id or not cfg.graph_token_file:
        raise UserError(
            f"coach {coach.id}: set graph_client_id (the app registered in Microsoft Entra)"
            " and graph_token_file in [coaches.calendar]"
        )

    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    who = device_sign_in(cfg.graph_client_id, cfg.graph_authority, cfg.graph_token_file, say)
    data = {"coach": coach.id, "account": who, "token_file": str(cfg.graph_token_file)}
    return Output(data, f"signed in as {who}; token stored in {cfg.graph_token_file}")


HANDLERS: dict[tuple[str, str | None], Callable[[Book, argparse.Namespace], Any]] = {
    ("auth", "graph"): graph
}
