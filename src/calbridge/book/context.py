"""The book's context: configuration, database, clock and who is acting from where."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from calbridge.config.schema import Coach, Settings
from calbridge.core.timeutil import utcnow
from calbridge.store import db as store
from calbridge.store.db import Db, Engine, Factory


@dataclass
class Book:
    settings: Settings
    engine: Engine
    origin: str = "cli"
    clock: Callable[[], datetime] = utcnow
    _factory: Factory = field(init=False, repr=False)
    _open: ContextVar[Db | None] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._factory = store.sessionfactory(self.engine)
        self._open = ContextVar(f"book-transaction-{id(self)}", default=None)

    @classmethod
    def open(cls, settings: Settings, origin: str = "cli", migrate: bool = True) -> Book:
        engine = store.open_engine(settings.database_url)
        if migrate:
            store.migrate(engine)
        return cls(settings, engine, origin)

    @contextmanager
    def transaction(self) -> Iterator[Db]:
        """One unit of work. Called inside another (same book, same thread or task), it
        joins the enclosing one: committed or rolled back with it, never on its own."""
        outer = self._open.get()
        if outer is not None:
            yield outer
            return
        with store.transaction(self._factory) as db:
            token = self._open.set(db)
            try:
                yield db
            finally:
                self._open.reset(token)

    def coach(self, coach_id: str) -> Coach:
        return self.settings.coach(coach_id)

    def zone(self, coach_id: str) -> ZoneInfo:
        return self.coach(coach_id).zone()

    def limit(self, program: str) -> int:
        return self.settings.program(program).monthly_limit
