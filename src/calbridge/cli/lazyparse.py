"""Parsing a command line by building only the command it names (start-up time).

Building every command's flags costs more than some commands' own work, and a run uses one
command: the others are registered by name and help only (so `--help`, the list of
commands and "invalid choice" read as before), and what their modules add to them goes
nowhere. When the guess of the command from argv is wrong, the whole parser is built.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any


class _Nowhere:
    """Takes every call a parser module makes on a command not being built, and drops it."""

    def __getattr__(self, _name: str) -> Any:
        return self

    def __call__(self, *_args: Any, **_kwargs: Any) -> Any:
        return self

    def __getitem__(self, _key: Any) -> Any:
        return self

    def __iter__(self) -> Any:
        return iter(())


class OnlySubparsers(argparse._SubParsersAction):  # type: ignore[type-arg]
    """The top-level subcommands, of which only ``only`` gets its flags and actions."""

    only: str | None = None
    building_all = True

    def add_parser(self, name: str, **kwargs: Any) -> Any:
        if self.building_all or name == self.only:
            return super().add_parser(name, **kwargs)
        shown = {k: v for k, v in kwargs.items() if k in ("help", "aliases")}
        super().add_parser(name, add_help=False, **shown)
        return _Nowhere()


def command_of(argv: Sequence[str]) -> str | None:
    """The command argv names (its first word that is neither a root flag nor its value)."""
    words = iter(argv)
    for word in words:
        if word == "--":
            return next(words, None)
        if word.startswith("--") and "=" not in word and "--config".startswith(word):
            next(words, None)  # --config PATH (or an abbreviation of it)
            continue
        if not word.startswith("-"):
            return word
    return None
