"""What a command hands back, and lazily loaded modules (no command pays for another's)."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from calbridge.book import Book


@dataclass
class Output:
    data: Any
    text: str
    #: 1 when the command did its work but something needs a person (a held calendar).
    status: int = 0


Handler = Callable[["Book", argparse.Namespace], Output]


class Lazy(ModuleType):
    """A module imported on its first attribute read: `planning = Lazy("calbridge.book.planning")`
    lets `client list` skip planning's mail and iCalendar imports until `session plan` runs."""

    def __init__(self, name: str) -> None:
        super().__init__(name)

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self.__name__), attr)
