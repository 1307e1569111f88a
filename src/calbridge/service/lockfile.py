"""SQLite is for one instance: a second ``calbridge run`` on the same book refuses."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from calbridge.errors import UserError
from calbridge.store.db import sqlite_file


class InstanceLock:
    """An exclusive ``flock`` on ``<database>.lock``, held for the process's life."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[str] | None = None

    def acquire(self) -> None:
        handle = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise UserError(
                f"another calbridge run ({holder}) is using the SQLite book next to {self.path}:"
                " SQLite allows one instance; stop it, or move database.url to PostgreSQL to"
                " run several"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}\n")
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


def sqlite_lock(database_url: str) -> InstanceLock | None:
    """The lock for a SQLite file book; None for PostgreSQL (leases share it) or memory."""
    database = sqlite_file(database_url)
    return None if database is None else InstanceLock(Path(f"{database}.lock"))
