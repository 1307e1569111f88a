"""The book read without SQLAlchemy: its schema revision, and the lists that commands only
print (`client list`, `third-party list`; `session list` in store/plain_sessions.py).

Importing SQLAlchemy and mapping the tables costs a listing command four times its own
work, so a SQLite book at the newest schema is read here with the standard library's
sqlite3. Anything else (PostgreSQL, a new or older book, a URL with options, any error)
returns None and the caller takes the ordinary path, which migrates and reports.
"""

from __future__ import annotations

import ast
import os
import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from calbridge.core.model import Client, ThirdParty
from calbridge.errors import UserError

MIGRATIONS = Path(__file__).with_name("migrations")
T = TypeVar("T")
Connection = sqlite3.Connection
_ASSIGNED = re.compile(r"^(revision|down_revision)\s*(?::[^=]*)?=\s*(.+?)\s*$", re.MULTILINE)


def known_revisions() -> tuple[set[str], set[str]]:
    """(every revision, the heads) read from the migration files' own assignments, without
    Alembic (loading its script directory costs every command a fifth of a second)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        found: dict[str, str] = {m[1]: m[2] for m in _ASSIGNED.finditer(source)}
        if "revision" not in found:
            continue
        revisions.add(ast.literal_eval(found["revision"]))
        down = ast.literal_eval(found.get("down_revision", "None"))
        parents.update([down] if isinstance(down, str) else (down or ()))
    return revisions, revisions - parents


def at_head(stored: str | None, heads: set[str]) -> bool:
    """Whether a book at revision ``stored`` needs nothing migrated."""
    return stored is not None and stored in heads and len(heads) == 1


def writable_folder(folder: Path) -> None:
    """The SQLite book's folder exists (made if need be) and this user may write it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(
            f"cannot create the book's folder {folder}: {exc.strerror or exc}"
            " (check state_dir or database.url)"
        ) from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UserError(
            f"cannot write the book's folder {folder}: permission denied"
            " (check state_dir or database.url, and which user runs calbridge)"
        )


def _sqlite_file(url: str) -> Path | None:
    """The file of a plain ``sqlite:///PATH`` URL (as SQLAlchemy reads it), else None."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or "?" in url or "%" in url or len(url) == len(prefix):
        return None
    return Path(url[len(prefix) :])


def read(url: str, reading: Callable[[sqlite3.Connection], T]) -> T | None:
    """What ``reading`` returns from the book at ``url``, or None: not a SQLite book at the
    newest schema, or sqlite3 failed (the ordinary path then says why)."""
    with _reader(url) as conn:
        if conn is None:
            return None
        try:
            return reading(conn)
        except sqlite3.Error:
            return None


@contextmanager
def _reader(url: str) -> Iterator[sqlite3.Connection | None]:
    """A read-only connection to the book at ``url`` when it is a SQLite book at the
    newest schema, in one read transaction; else None."""
    path = _sqlite_file(url)
    if path is None or path == Path(":memory:") or not path.is_file():
        yield None
        return
    writable_folder(path.parent)  # as the ordinary path does, with its message
    try:
        conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, timeout=60)
    except sqlite3.Error:
        yield None
        return
    with closing(conn):
        try:
            conn.execute("BEGIN")
            rows = conn.execute("SELECT version_num FROM alembic_version").fetchall()
        except sqlite3.Error:
            rows = []
        stored = rows[0][0] if len(rows) == 1 else None
        yield conn if at_head(stored, known_revisions()[1]) else None


def clients(conn: sqlite3.Connection) -> list[Client]:
    rows = conn.execute("SELECT id, name, email, program, timezone FROM clients ORDER BY id")
    return [Client(*row) for row in rows]


def third_parties(conn: sqlite3.Connection) -> list[ThirdParty]:
    rows = conn.execute("SELECT id, name, email, timezone FROM third_parties ORDER BY id")
    return [ThirdParty(*row) for row in rows]


_ARCHIVED = {
    "client": "SELECT id, archived_at FROM clients WHERE archived_at IS NOT NULL",
    "third-party": "SELECT id, archived_at FROM third_parties WHERE archived_at IS NOT NULL",
}


def archived_at(conn: sqlite3.Connection, kind: str) -> dict[str, datetime]:
    """When each archived client (or third party) was archived (stored as naive UTC)."""
    rows = conn.execute(_ARCHIVED[kind])
    return {i: datetime.fromisoformat(at).replace(tzinfo=UTC) for i, at in rows}
