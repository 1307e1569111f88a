"""``VdirStore``: a calendar as a folder of ``.ics`` files (the vdir layout of khal, vdirsyncer).

One file per member, named by the member name (``UID.ics``); the href is the file name.
The etag is taken from ``stat`` (mtime in ns, size, inode), as vdirsyncer's filesystem
storage does, so an edit by another program (khal, vdirsyncer, an editor) changes it too.

Writes are atomic: a temporary file in the same folder (``.<name>.<random>.tmp``, ignored by
listings, as are all non-``.ics`` files) is written and fsynced, then

* ``create`` hard-links it into place, which fails if the name exists (no check-then-write
  race with another writer);
* ``update`` moves it over the old file with ``os.replace`` after checking the etag. POSIX has
  no compare-and-swap on files, so a foreign edit landing between the check and the replace
  would be overwritten; calbridge itself never syncs one calendar twice at once.

Each write makes the file's mtime strictly greater than the one it replaces, so a coarse
filesystem clock and a reused inode can never give an old etag back.

``changes`` always reads the whole folder; its token is a digest of the listing, so an
unchanged folder answers with the same token and nothing to do.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from collections.abc import Iterator, Sequence
from pathlib import Path

from calbridge.calendars.base import (
    AlreadyExists,
    EtagMismatch,
    Item,
    Listing,
    ReadOnlyStore,
    StorageError,
)
from calbridge.calendars.naming import SUFFIX, check_name

TOKEN_PREFIX = "vdir1:"


def file_etag(st: os.stat_result) -> str:
    """The etag of a file: mtime (ns), size and inode, like vdirsyncer's."""
    return f"{st.st_mtime_ns}-{st.st_size}-{st.st_ino}"


@contextlib.contextmanager
def _os_errors(what: str) -> Iterator[None]:
    """Report an unexpected OSError (permissions, disk full) as a StorageError."""
    try:
        yield
    except OSError as exc:
        raise StorageError(f"{what}: {exc}") from exc


class VdirStore:
    """A vdir folder. A missing one is created when ``create``: only its last level when
    its parent exists (a mistyped path is refused, never made with all its parents),
    or with its parents inside ``parents_within`` (the folder a relative path in the
    configuration lies in). Not created (dry runs, read-only calendars), it reads empty."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        read_only: bool = False,
        create: bool = True,
        parents_within: Path | None = None,
        key: str = "calendar url",
    ) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self._absent = False  # missing and not created: reads empty, until it appears
        if self.path.is_dir():
            return
        inside = parents_within is not None and self.path.is_relative_to(parents_within)
        if not inside and not self.path.parent.is_dir():
            raise StorageError(
                f"{key}: folder {self.path} does not exist and neither does its parent"
                f" {self.path.parent} (mistyped? calbridge creates only the last folder)"
            )
        if create and not read_only:
            with _os_errors(f"{key}: cannot create {self.path}"):
                self.path.mkdir(parents=inside, exist_ok=True)
        else:
            self._absent = True

    def changes(self, token: str | None) -> Listing:
        etags = self._scan()
        current = TOKEN_PREFIX + _digest(etags)
        if token == current:
            return Listing(current, snapshot=True)
        return Listing(current, etags, full=True, snapshot=True)

    def get_many(self, hrefs: Sequence[str]) -> list[Item]:
        items = (self._read(href) for href in dict.fromkeys(hrefs))
        return [item for item in items if item is not None]

    def create(self, name: str, data: bytes) -> Item:
        target = self._member(check_name(name), write=True)
        with _os_errors(f"create {name}"), self._temp_file(name, data) as temp:
            try:
                os.link(temp, target)
            except FileExistsError:
                raise AlreadyExists(f"{name} exists in {self.path}") from None
            self._sync_folder()
            return Item(name, file_etag(target.stat()), bytes(data))

    def update(self, href: str, data: bytes, etag: str) -> str:
        target = self._member(href, write=True)
        with _os_errors(f"update {href}"):
            old = self._stat_if_current(target, etag)
            with self._temp_file(href, data) as temp:
                _advance_mtime(temp, old)
                temp.replace(target)
            self._sync_folder()
            return file_etag(target.stat())

    def delete(self, href: str, etag: str) -> None:
        target = self._member(href, write=True)
        with _os_errors(f"delete {href}"):
            try:
                self._stat_if_current(target, etag)
                target.unlink()
            except (FileNotFoundError, _Gone):
                return  # already gone: what the caller wanted
            self._sync_folder()

    # -- internals --------------------------------------------------------------------------

    def _member(self, href: str, *, write: bool = False) -> Path:
        if write and self.read_only:
            raise ReadOnlyStore(f"{self.path} is read-only")
        return self.path / check_name(href)

    def _scan(self) -> dict[str, str]:
        etags: dict[str, str] = {}
        if self._absent and not self.path.exists():  # never there: nothing in it yet
            return etags
        # One that vanished after opening is an error, never "every event was deleted".
        self._absent = False
        with _os_errors(f"cannot list {self.path}"), os.scandir(self.path) as entries:
            for entry in entries:
                if not entry.name.endswith(SUFFIX):
                    continue
                with contextlib.suppress(FileNotFoundError):  # removed while listing
                    if entry.is_file():
                        etags[entry.name] = file_etag(entry.stat())
        return etags

    def _read(self, href: str) -> Item | None:
        path = self._member(href)
        with _os_errors(f"read {href}"):
            try:
                with path.open("rb") as f:
                    data = f.read()
                    return Item(href, file_etag(os.fstat(f.fileno())), data)
            except (FileNotFoundError, IsADirectoryError):
                return None

    def _stat_if_current(self, target: Path, etag: str) -> os.stat_result:
        try:
            st = target.stat()
        except FileNotFoundError:
            raise _Gone(f"{target.name} does not exist") from None
        if file_etag(st) != etag:
            raise EtagMismatch(f"{target.name}: etag {etag} is not current")
        return st

    @contextlib.contextmanager
    def _temp_file(self, name: str, data: bytes) -> Iterator[Path]:
        temp = self.path / f".{name}.{secrets.token_hex(6)}.tmp"
        try:
            with temp.open("xb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            yield temp
        finally:
            temp.unlink(missing_ok=True)

    def _sync_folder(self) -> None:
        fd = os.open(self.path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class _Gone(EtagMismatch):
    """The member to update or delete does not exist (an EtagMismatch for ``update``)."""


def _advance_mtime(temp: Path, old: os.stat_result) -> None:
    """Make ``temp``'s mtime strictly newer than the file it replaces."""
    st = temp.stat()
    if st.st_mtime_ns <= old.st_mtime_ns:
        os.utime(temp, ns=(st.st_atime_ns, old.st_mtime_ns + 1))


def _digest(etags: dict[str, str]) -> str:
    h = hashlib.sha256()
    for name in sorted(etags):
        h.update(f"{name}\x00{etags[name]}\n".encode("utf-8", "surrogateescape"))
    return h.hexdigest()
