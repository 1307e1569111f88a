"""Which module handles a command, imported only when that command runs (start-up time).

`calbridge client list` must not pay for aiohttp, the web app, IMAP or Graph: each handler
module is imported on demand. `_WHERE` names the module of the known commands; a command
it does not name is looked up in every `cli/handlers_*.py` (an area's new module needs no
entry here to work, only to start fast). An area module's entry overrides the base one in
cli/handlers.py for the same command (outcomes' `session cancel` adds a hint); two area
modules must not claim the same command (tests/test_cli_dispatch.py checks both rules).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import Any

Key = tuple[str, str | None]

_BY_COMMAND: dict[str, str] = {
    "client": "handlers",
    "third-party": "handlers",
    "session": "handlers",
    "closure": "handlers",
    "slots": "handlers",
    "agenda": "handlers",
    "sync": "handlers",
    "completion-type": "handlers_outcomes",
    "report": "handlers_outcomes",
    "offer": "handlers_offers",
    "feed": "handlers_offers",
    "serve": "handlers_offers",
    "mail": "handlers_mail",
    "run": "handlers_daemon",
    "auth": "handlers_auth",
    "inbound": "handlers_inbound",
    "counter": "handlers_inbound",
    "reminder": "handlers_admin",
    "series": "handlers_admin",
    "waitlist": "handlers_waitlist",
}
_WHERE: dict[Key, str] = {
    ("session", "offer"): "handlers_offers",
    ("client", "link"): "handlers_links",
    **dict.fromkeys(
        (
            ("client", "list"),
            ("client", "archive"),
            ("client", "unarchive"),
            ("third-party", "list"),
            ("third-party", "edit"),
            ("third-party", "archive"),
            ("third-party", "unarchive"),
            ("closure", "list"),
            ("closure", "remove"),
            ("offer", "list"),
            ("offer", "show"),
            ("offer", "cancel"),
        ),
        "handlers_admin",
    ),
    **{
        ("session", action): "handlers_outcomes"
        for action in ("complete", "cancel-many", "retype", "cancel", "note", "comment", "record")
    },
}


#: Commands that first try to run without the book's SQLAlchemy (store/plain.py): the
#: function gets the settings and the arguments, and returns None to take the book.
_WITHOUT_BOOK: dict[Key, tuple[str, str]] = {
    ("client", "list"): ("listing", "without_book"),
    ("third-party", "list"): ("listing", "without_book"),
    ("session", "list"): ("listing", "sessions_without_book"),
}


def without_book(command: str, action: str | None) -> Callable[..., Any] | None:
    found = _WITHOUT_BOOK.get((command, action))
    if found is None:
        return None
    module, name = found
    run_it: Callable[..., Any] = getattr(importlib.import_module(f"calbridge.cli.{module}"), name)
    return run_it


def _handlers_of(module: str) -> dict[Key, Callable[..., Any]]:
    found: dict[Key, Callable[..., Any]] = importlib.import_module(
        f"calbridge.cli.{module}"
    ).HANDLERS
    return found


def area_modules() -> list[str]:
    """Every cli/handlers_<area>.py, by name."""
    import calbridge.cli

    names = (m.name for m in pkgutil.iter_modules(calbridge.cli.__path__))
    return sorted(n for n in names if n.startswith("handlers_"))


def every_handler() -> dict[Key, Callable[..., Any]]:
    """The whole registry (imports every handler module): the base, then the areas'."""
    merged = dict(_handlers_of("handlers"))
    for module in area_modules():
        merged.update(_handlers_of(module))
    return merged


def handler(command: str, action: str | None) -> Callable[..., Any]:
    key = (command, action)
    module = _WHERE.get(key) or _BY_COMMAND.get(command)
    if module is not None:
        found = _handlers_of(module).get(key)
        if found is not None:
            return found
    return every_handler()[key]
