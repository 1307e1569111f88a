"""The book's context: configuration, database, clock and who is acting from where."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from calbridge.book import consumers as installed
from calbridge.book.consumers import Consumer
from calbridge.config.schema import Coach, Settings
from calbridge.core.timeutil import utcnow
from calbridge.events.changes import Change
from calbridge.store import db as store
from calbridge.store.db import Db, Engine, Factory


@dataclass
class Book:
    settings: Settings
    engine: Engine
    origin: str = "cli"
    clock: Callable[[], datetime] = utcnow
    #: Who turns the book's changes into mail, texts …: those installed by the wiring.
    consumers: tuple[Consumer, ...] = field(default_factory=installed.installed)
    _factory: Factory = field(init=False, repr=False)
    _open: ContextVar[Db | None] = field(init=False, repr=False)
    _changes: ContextVar[list[Change] | None] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._factory = store.sessionfactory(self.engine)
        self._open = ContextVar(f"book-transaction-{id(self)}", default=None)
        self._changes = ContextVar(f"book-changes-{id(self)}", default=None)

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
            token, collected = self._open.set(db), self._changes.set([])
            try:
                yield db
            finally:
                self._changes.reset(collected)
                self._open.reset(token)

    def emit(self, db: Db, change: Change) -> list[str]:
        """Record ``change`` in the open transaction and hand it to every consumer, in
        that transaction; returns the Message-IDs of the mail they queued for it."""
        collected = self._changes.get()
        if collected is None or self._open.get() is not db:
            raise RuntimeError("a change is emitted inside the book's open transaction")
        if not self.consumers:
            raise RuntimeError("no change consumers installed: call service.wiring.install()")
        collected.append(change)
        return [sent for consumer in self.consumers for sent in consumer(self, db, change)]

    def changes(self) -> list[Change]:
        """The changes emitted so far in the open transaction (none open: none)."""
        return list(self._changes.get() or [])

    def coach(self, coach_id: str) -> Coach:
        return self.settings.coach(coach_id)

    def zone(self, coach_id: str) -> ZoneInfo:
        return self.coach(coach_id).zone()

    def limit(self, program: str) -> int:
        return self.settings.program(program).monthly_limit
