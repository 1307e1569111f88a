"""Progress bars for the command line: the one place that decides whether they show.

A bar shows only when stderr is a terminal (a person watching), and only for commands
whose handler asks for it (``sync``, ``session complete``, ``closure add``); the daemon
(``run``) never does, so logs and pipes stay quiet. Bars are tqdm's, drawn on stderr and
cleared when done; work of fewer than ``MIN_ITEMS`` steps shows none.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager

from calbridge.progress import displayed

MIN_ITEMS = 20


def shown() -> AbstractContextManager[None]:
    """While the block runs, long work draws a bar on a terminal; elsewhere nothing."""
    return displayed(_bar if sys.stderr.isatty() else None)


def _bar(items: Iterable[object], what: str, total: int) -> Iterable[object]:
    if total < MIN_ITEMS:
        return items
    return _stepped(items, what, total)


def _stepped(items: Iterable[object], what: str, total: int) -> Iterator[object]:
    from tqdm import tqdm  # only when a bar shows: start-up time (tests/test_cli_startup.py)

    with tqdm(items, desc=what, total=total, file=sys.stderr, leave=False) as bar:
        yield from bar
