"""Long work says how far it got: a sync's creates, updates and deletes, bulk completes,
closures that cancel many sessions. Any layer wraps such a loop in ``track``; nothing is
shown unless the command line installed a display for the command (cli/progress.py: a
bar on a terminal, never in the daemon, logs or pipes). This module imports nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

T = TypeVar("T")
#: Wraps an iterable of ``total`` items so that stepping through it shows how far it got.
Display = Callable[[Iterable[object], str, int], Iterable[object]]

_display: ContextVar[Display | None] = ContextVar("calbridge_progress", default=None)


def track(items: Iterable[T], what: str, total: int) -> Iterable[T]:
    """``items`` as they are, shown on the installed display (if any) as ``what``."""
    display = _display.get()
    if display is None:
        return items
    return display(items, what, total)  # type: ignore[return-value]


@contextmanager
def displayed(display: Display | None) -> Iterator[None]:
    """Show long work on ``display`` while the block runs (None: show nothing)."""
    token = _display.set(display)
    try:
        yield
    finally:
        _display.reset(token)
