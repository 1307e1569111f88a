"""The storage contract (``calbridge.calendars.base``), one test class for every backend.

A backend's test module subclasses :class:`StoreContract` as ``Test...`` and supplies a
``store`` fixture giving a fresh, empty, writable store. ``incremental`` says whether
``changes(token)`` after a change answers with just that change (memory, sync-collection) or
with a full listing (vdir, CalDAV without sync tokens); both are allowed by the contract,
but a store must say which it is and keep to it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from icalendar import Calendar, Component

from calbridge.calendars.base import (
    AlreadyExists,
    CalendarStore,
    EtagMismatch,
    Item,
    Listing,
    resource_name,
)

UTF8_SUMMARY = "Café ünïcode — 日本語 ☕ 🗓"
ODD_UIDS = ["a/b", "a b?c#d", "100%", "<ünï>@example.org", "semi;colon\\back+plus"]


def event(uid: str, summary: str = "Session") -> bytes:
    """A minimal valid VCALENDAR with one VEVENT (CRLF line endings, UTF-8)."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//calbridge//tests.calendars//EN",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        "DTSTAMP:20260101T000000Z",
        "DTSTART:20260105T100000Z",
        "DURATION:PT1H",
        f"SUMMARY:{summary}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return ("\r\n".join(lines) + "\r\n").encode()


def _vevent(data: bytes) -> Component:
    [vevent] = Calendar.from_ical(data).walk("VEVENT")
    return vevent


def summary_of(data: bytes) -> str:
    return str(_vevent(data)["SUMMARY"])


def uid_of(data: bytes) -> str:
    return str(_vevent(data)["UID"])


class StoreContract:
    incremental = True

    @pytest.fixture
    def store(self) -> Iterator[CalendarStore]:
        raise NotImplementedError("a backend's test class supplies the store fixture")

    # -- helpers ----------------------------------------------------------------------------

    def _create(self, store: CalendarStore, uid: str, summary: str = "Session") -> Item:
        return store.create(resource_name(uid), event(uid, summary))

    def _current(self, store: CalendarStore, item: Item) -> Item | None:
        found = store.get_many([item.href])
        return found[0] if found else None

    def _after_change(self, listing: Listing, everything: dict[str, str]) -> None:
        """A listing after a change: incremental, or full and then equal to everything."""
        assert listing.full is not self.incremental
        if listing.full:
            assert listing.changed == everything
            assert listing.deleted == frozenset()

    # -- listing ----------------------------------------------------------------------------

    def test_empty_store_lists_nothing_in_full(self, store: CalendarStore) -> None:
        listing = store.changes(None)
        assert listing.full
        assert listing.changed == {} and listing.deleted == frozenset()
        assert listing.token

    def test_created_member_is_listed_with_the_etag_create_returned(
        self, store: CalendarStore
    ) -> None:
        item = self._create(store, "created")
        assert item.href and item.etag
        listing = store.changes(None)
        assert listing.full
        assert listing.changed == {item.href: item.etag}

    def test_unchanged_store_answers_its_token_with_nothing(self, store: CalendarStore) -> None:
        self._create(store, "steady")
        first = store.changes(None)
        for _ in range(2):
            again = store.changes(first.token)
            assert not again.full, "an unchanged store must not ask for a full resync"
            assert again.changed == {} and again.deleted == frozenset()
            assert again.token
            first = again

    def test_a_create_is_reported_after_the_token(self, store: CalendarStore) -> None:
        old = self._create(store, "old")
        token = store.changes(None).token
        new = self._create(store, "new")
        listing = store.changes(token)
        self._after_change(listing, {old.href: old.etag, new.href: new.etag})
        if not listing.full:
            assert listing.changed == {new.href: new.etag}
            assert listing.deleted == frozenset()

    def test_one_update_is_reported_alone(self, store: CalendarStore) -> None:
        a = self._create(store, "a")
        b = self._create(store, "b")
        token = store.changes(None).token
        new_etag = store.update(a.href, event("a", "moved"), a.etag)
        listing = store.changes(token)
        self._after_change(listing, {a.href: new_etag, b.href: b.etag})
        if not listing.full:
            assert listing.changed == {a.href: new_etag}
            assert listing.deleted == frozenset()

    def test_a_delete_is_reported(self, store: CalendarStore) -> None:
        a = self._create(store, "a")
        b = self._create(store, "b")
        token = store.changes(None).token
        store.delete(a.href, a.etag)
        listing = store.changes(token)
        self._after_change(listing, {b.href: b.etag})
        if not listing.full:
            assert listing.changed == {}
            assert listing.deleted == frozenset({a.href})
        assert store.changes(listing.token).changed == {}

    # -- conditional writes -----------------------------------------------------------------

    def test_create_twice_with_one_name_is_already_exists(self, store: CalendarStore) -> None:
        first = self._create(store, "twice", "first")
        with pytest.raises(AlreadyExists):
            self._create(store, "twice", "second")
        kept = self._current(store, first)
        assert kept is not None
        assert kept.etag == first.etag
        assert summary_of(kept.data) == "first"

    def test_update_with_a_stale_etag_is_refused_and_changes_nothing(
        self, store: CalendarStore
    ) -> None:
        item = self._create(store, "stale", "v1")
        newer = store.update(item.href, event("stale", "v2"), item.etag)
        with pytest.raises(EtagMismatch):
            store.update(item.href, event("stale", "v3"), item.etag)
        current = self._current(store, item)
        assert current is not None
        assert (current.etag, summary_of(current.data)) == (newer, "v2")

    def test_delete_with_a_stale_etag_is_refused(self, store: CalendarStore) -> None:
        item = self._create(store, "keep", "v1")
        newer = store.update(item.href, event("keep", "v2"), item.etag)
        with pytest.raises(EtagMismatch):
            store.delete(item.href, item.etag)
        assert store.changes(None).changed == {item.href: newer}

    def test_update_and_delete_with_the_right_etag(self, store: CalendarStore) -> None:
        item = self._create(store, "right", "v1")
        newer = store.update(item.href, event("right", "v2"), item.etag)
        assert newer != item.etag
        current = self._current(store, item)
        assert current is not None
        assert (current.etag, summary_of(current.data)) == (newer, "v2")
        store.delete(item.href, newer)
        assert store.get_many([item.href]) == []
        assert store.changes(None).changed == {}

    def test_update_of_a_vanished_member_is_etag_mismatch(self, store: CalendarStore) -> None:
        item = self._create(store, "vanish")
        store.delete(item.href, item.etag)
        with pytest.raises(EtagMismatch):
            store.update(item.href, event("vanish", "again"), item.etag)

    def test_delete_of_a_vanished_member_is_a_no_op(self, store: CalendarStore) -> None:
        item = self._create(store, "twice-deleted")
        store.delete(item.href, item.etag)
        store.delete(item.href, item.etag)  # already gone: what the caller wanted
        assert store.changes(None).changed == {}

    def test_bad_names_are_refused(self, store: CalendarStore) -> None:
        for name in ("a/b.ics", "no-suffix", "..", ""):
            with pytest.raises(ValueError, match="name"):
                store.create(name, event("bad"))

    # -- reading ----------------------------------------------------------------------------

    def test_get_many_fetches_250_members_and_skips_vanished_ones(
        self, store: CalendarStore
    ) -> None:
        items = [self._create(store, f"bulk-{i}", f"bulk {i}") for i in range(250)]
        gone = items[7]
        store.delete(gone.href, gone.etag)
        never = items[0].href.replace("bulk-0.ics", "never-was.ics")
        wanted = [item.href for item in items] + [never, items[3].href]
        found = store.get_many(wanted)
        kept = [item for item in items if item is not gone]
        assert [item.href for item in found] == [item.href for item in kept]
        assert [item.etag for item in found] == [item.etag for item in kept]
        assert [uid_of(item.data) for item in found] == [f"bulk-{i}" for i in range(250) if i != 7]

    def test_get_many_of_nothing_is_nothing(self, store: CalendarStore) -> None:
        assert store.get_many([]) == []

    def test_utf8_content_survives(self, store: CalendarStore) -> None:
        item = self._create(store, "utf8", UTF8_SUMMARY)
        current = self._current(store, item)
        assert current is not None
        assert summary_of(current.data) == UTF8_SUMMARY
        assert b"\r\n" in current.data and b"\n" not in current.data.replace(b"\r\n", b"")
        newer = store.update(item.href, event("utf8", UTF8_SUMMARY + " ✓"), item.etag)
        current = self._current(store, item)
        assert current is not None
        assert (current.etag, summary_of(current.data)) == (newer, UTF8_SUMMARY + " ✓")

    def test_resource_name_escapes_odd_uids(self, store: CalendarStore) -> None:
        names = [resource_name(uid) for uid in ODD_UIDS]
        assert len(set(names)) == len(names)
        assert all(name.endswith(".ics") and "/" not in name for name in names)
        items = [store.create(name, event(uid)) for name, uid in zip(names, ODD_UIDS, strict=True)]
        assert store.changes(None).changed == {item.href: item.etag for item in items}
        found = store.get_many([item.href for item in items])
        assert [uid_of(item.data) for item in found] == ODD_UIDS
        for item, uid in zip(items, ODD_UIDS, strict=True):
            store.update(item.href, event(uid, "edited"), item.etag)
        assert {summary_of(i.data) for i in store.get_many([i.href for i in items])} == {"edited"}

    def test_store_is_writable(self, store: CalendarStore) -> None:
        assert store.read_only is False
