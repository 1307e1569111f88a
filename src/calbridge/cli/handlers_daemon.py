"""``calbridge run``: hands the open book to the daemon."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from calbridge.book import Book
from calbridge.errors import CalbridgeError

if TYPE_CHECKING:
    from calbridge.cli.handlers import Output


class RunFailed(CalbridgeError):
    """``run --once``: a calendar failed (exit 1); the log says which and why."""


def run(book: Book, a: argparse.Namespace) -> Output:
    from calbridge.cli.handlers import Output
    from calbridge.service import daemon

    options = daemon.Options(a.config, a.once, a.log_json, a.log_level)
    if daemon.run(book, options) != 0:
        raise RunFailed("run --once: some calendars failed (see the log)")
    return Output({}, "")


HANDLERS: dict[tuple[str, str | None], Callable[[Book, argparse.Namespace], Any]] = {
    ("run", None): run
}
