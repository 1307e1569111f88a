"""Opening the book's database, migrating it, and serializing rule checks with their writes."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine as Engine
from sqlalchemy import create_engine, event, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, OperationalError, ProgrammingError, SQLAlchemyError
from sqlalchemy.exc import IntegrityError as IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from calbridge.errors import UserError
from calbridge.store.plain import MIGRATIONS, at_head, known_revisions, writable_folder

#: The handle of one transaction, as the book's code passes it to the repositories here.
Db = Session
#: What makes a book's transactions (one per engine, see ``sessionfactory``).
Factory = sessionmaker[Session]
#: Any error of the database or its driver (``IntegrityError``: a constraint refused a row).
DatabaseError = SQLAlchemyError

log = logging.getLogger(__name__)
_MIGRATION_LOCK = 0x63616C62  # "calb"


def normalize_url(raw: str) -> URL:
    try:
        url = make_url(raw)
    except ArgumentError:
        raise UserError(f"database.url {raw!r} is not a database URL") from None
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise UserError(
            f"database.url: {url.get_backend_name()} is not supported (sqlite, postgresql)"
        )
    return url


def _sqlite_setup(engine: Engine) -> None:
    """Each transaction takes SQLite's write lock at BEGIN, so check-then-write is atomic."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout = 60000")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def open_engine(raw_url: str) -> Engine:
    url = normalize_url(raw_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            writable_folder(Path(url.database).parent)
        engine = create_engine(url)
        _sqlite_setup(engine)
        return engine
    # No server-side prepared statements: psycopg would prepare after 5 runs and keep a plan
    # made while the tables were small (stale without ANALYZE), turning the limit check into
    # a scan of every session as the book grows. Planning each time costs microseconds.
    return create_engine(url, pool_pre_ping=True, connect_args={"prepare_threshold": None})


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def sqlite_file(raw_url: str) -> Path | None:
    """The file of a SQLite book; None for PostgreSQL or an in-memory database."""
    url = make_url(raw_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def ping(engine: Engine) -> None:
    """One round trip to the database (raises ``DatabaseError`` when it is away)."""
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def lock(db: Session, keys: Iterable[str]) -> None:
    """Serialize transactions touching the same coach or client until commit.

    PostgreSQL takes transaction-scoped advisory locks in a fixed order (no deadlocks);
    SQLite already holds its database write lock since BEGIN IMMEDIATE.
    """
    bind = db.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for key in sorted(set(keys)):
        db.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": key})


def _alembic_config(connection: Any) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    config = _alembic_config(None)
    return ScriptDirectory.from_config(config).get_current_head()


def _stored_revision(engine: Engine) -> str | None:
    """The book's alembic_version, one plain query; None for a new (or pre-Alembic) book."""
    with engine.connect() as connection:
        try:
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
        except (OperationalError, ProgrammingError):
            return None  # no table yet: Alembic creates it
    return rows[0][0] if len(rows) == 1 else None


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision; several processes may race here safely.

    The common case (the book is at the head) costs one query; Alembic is loaded only when
    there is something to do. A book migrated by a newer calbridge is refused, untouched.
    """
    try:
        stored = _stored_revision(engine)
        revisions, heads = known_revisions()
        if at_head(stored, heads):
            return
        if stored is not None and stored not in revisions:
            raise UserError(
                f"the book database is at schema revision {stored}, which this calbridge does"
                f" not know (its newest is {', '.join(sorted(heads))}): run the calbridge"
                " version that wrote it, or upgrade calbridge"
            )
        _upgrade(engine)
    except OperationalError as exc:
        where = engine.url.database if engine.dialect.name == "sqlite" else engine.url.host
        raise UserError(f"cannot open the book database ({where}): {exc.orig}") from None


def _upgrade(engine: Engine) -> None:
    from alembic import command

    if current_revision(engine) == head_revision():
        return
    with engine.begin() as connection:
        if is_postgres(engine):
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
        log.info("migrating the book database to the newest schema")
        command.upgrade(_alembic_config(connection), "head")


_FACTORIES: WeakKeyDictionary[Engine, sessionmaker[Session]] = WeakKeyDictionary()


def sessionfactory(engine: Engine) -> sessionmaker[Session]:
    """The one session factory of ``engine``. Each ``sessionmaker`` defines a Session
    subclass with its own event dispatch, so making one per Book copy (every sync pass)
    cost a tenth of an idle pass's CPU and grew SQLAlchemy's class registry."""
    factory = _FACTORIES.get(engine)
    if factory is None:
        factory = _FACTORIES[engine] = sessionmaker(engine, expire_on_commit=False)
    return factory


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: committed whole, or rolled back whole on any error."""
    with factory() as db, db.begin():
        yield db
