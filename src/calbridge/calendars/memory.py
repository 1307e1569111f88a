"""``MemoryStore``: the in-memory double of a calendar, for tests and the sync's state machine.

It keeps the contract exactly as the real backends do (conditional writes, incremental
listings) and adds what tests need to be cruel to the sync:

* ``fail_next``: exceptions the next operations raise *before* doing anything
  (a request that never reached the server);
* ``fail_after_next``: exceptions the next operations raise *after* doing their work
  (the server applied a write but the reply was lost);
* ``expire_tokens()``: every token issued so far becomes invalid, as when a server forgets
  its sync history, so the next ``changes`` is a full listing;
* ``calls``: the name of every operation attempted, in order.

Etags change on every write (``"m<n>"``); the sync token is the write counter.
"""

from __future__ import annotations

from collections.abc import Sequence

from calbridge.calendars.base import (
    AlreadyExists,
    EtagMismatch,
    Item,
    Listing,
    ReadOnlyStore,
)
from calbridge.calendars.naming import check_name


class MemoryStore:
    """A calendar held in a dict; see the module docstring for the failure hooks."""

    def __init__(self, *, read_only: bool = False) -> None:
        self.read_only = read_only
        self.fail_next: list[Exception] = []
        self.fail_after_next: list[Exception] = []
        self.calls: list[str] = []
        self._items: dict[str, Item] = {}
        self._version = 0
        self._horizon = 0  # tokens older than this are expired
        self._log: list[tuple[int, str]] = []  # (version, href) of every write

    # -- test helpers -----------------------------------------------------------------------

    @property
    def items(self) -> dict[str, Item]:
        """A copy of the current members, by href."""
        return dict(self._items)

    def expire_tokens(self) -> None:
        """Forget the change history: every token issued so far now gives a full listing."""
        self._version += 1
        self._horizon = self._version
        self._log.clear()

    # -- the contract -----------------------------------------------------------------------

    def changes(self, token: str | None) -> Listing:
        self._enter("changes")
        since = self._valid_token(token)
        if since is None:
            listing = Listing(self._token(), self._etags(), full=True)
        else:
            listing = self._changes_since(since)
        self._leave()
        return listing

    def get_many(self, hrefs: Sequence[str]) -> list[Item]:
        self._enter("get_many")
        found = [self._items[href] for href in dict.fromkeys(hrefs) if href in self._items]
        self._leave()
        return found

    def create(self, name: str, data: bytes) -> Item:
        self._enter("create", write=True)
        href = check_name(name)
        if href in self._items:
            raise AlreadyExists(f"{href} exists")
        item = self._write(href, data)
        self._leave()
        return item

    def update(self, href: str, data: bytes, etag: str) -> str:
        self._enter("update", write=True)
        self._check_etag(href, etag)
        item = self._write(href, data)
        self._leave()
        return item.etag

    def delete(self, href: str, etag: str) -> None:
        self._enter("delete", write=True)
        if href in self._items:
            self._check_etag(href, etag)
            del self._items[href]
            self._bump(href)
        self._leave()

    # -- internals --------------------------------------------------------------------------

    def _enter(self, operation: str, *, write: bool = False) -> None:
        self.calls.append(operation)
        if self.fail_next:
            raise self.fail_next.pop(0)
        if write and self.read_only:
            raise ReadOnlyStore(f"{operation}: this store is read-only")

    def _leave(self) -> None:
        if self.fail_after_next:
            raise self.fail_after_next.pop(0)

    def _token(self) -> str:
        return str(self._version)

    def _valid_token(self, token: str | None) -> int | None:
        if token is None or not token.isdigit():
            return None
        since = int(token)
        return since if self._horizon <= since <= self._version else None

    def _etags(self) -> dict[str, str]:
        return {href: item.etag for href, item in self._items.items()}

    def _changes_since(self, since: int) -> Listing:
        touched = {href for version, href in self._log if version > since}
        changed = {href: self._items[href].etag for href in touched if href in self._items}
        deleted = frozenset(touched - changed.keys())
        return Listing(self._token(), changed, deleted, full=False)

    def _check_etag(self, href: str, etag: str) -> None:
        current = self._items.get(href)
        if current is None or current.etag != etag:
            raise EtagMismatch(f"{href}: etag {etag} is not current")

    def _write(self, href: str, data: bytes) -> Item:
        self._bump(href)
        item = Item(href, f'"m{self._version}"', bytes(data))
        self._items[href] = item
        return item

    def _bump(self, href: str) -> None:
        self._version += 1
        self._log.append((self._version, href))
