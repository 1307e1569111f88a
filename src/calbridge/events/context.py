"""What the channels (``mail``, ``sms``) read of the book: its settings, its clock and a
transaction on the store. ``book.context.Book`` has all three (structurally, it imports
nothing of this), so the channels type against this and import nothing of the book."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol

from calbridge.config.schema import Settings
from calbridge.store.db import Db


class BookContext(Protocol):
    """The book as a channel sees it: the practice's settings, the clock every message is
    dated by, and one unit of work (joining the caller's when one is open)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def clock(self) -> Callable[[], datetime]: ...

    def transaction(self) -> AbstractContextManager[Db]: ...
