"""MemoryStore: the contract, plus the failure hooks the sync's tests rely on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from calbridge.calendars.base import ReadOnlyStore, TransientError, resource_name
from calbridge.calendars.memory import MemoryStore

from .contract import StoreContract, event


class TestMemoryStore(StoreContract):
    incremental = True

    @pytest.fixture
    def store(self) -> Iterator[MemoryStore]:
        yield MemoryStore()


def test_every_write_gives_a_new_etag_even_for_the_same_bytes() -> None:
    store = MemoryStore()
    item = store.create("same.ics", event("same"))
    etags = [item.etag]
    for _ in range(3):
        etags.append(store.update(item.href, event("same"), etags[-1]))
    assert len(set(etags)) == 4


def test_fail_next_raises_before_anything_happens() -> None:
    store = MemoryStore()
    store.fail_next.append(TransientError("network down"))
    with pytest.raises(TransientError, match="network down"):
        store.create("a.ics", event("a"))
    assert store.items == {}
    item = store.create("a.ics", event("a"))  # the hook is used up
    assert store.items == {"a.ics": item}


def test_fail_after_next_applies_the_write_then_loses_the_reply() -> None:
    store = MemoryStore()
    token = store.changes(None).token
    store.fail_after_next.append(TransientError("reply lost"))
    with pytest.raises(TransientError):
        store.create("a.ics", event("a"))
    assert list(store.items) == ["a.ics"]
    assert store.changes(token).changed == {"a.ics": store.items["a.ics"].etag}


def test_hooks_apply_to_reads_too_and_calls_are_recorded() -> None:
    store = MemoryStore()
    store.fail_next.extend([TransientError("one"), TransientError("two")])
    for _ in range(2):
        with pytest.raises(TransientError):
            store.changes(None)
    assert store.get_many(["x.ics"]) == []
    assert store.calls == ["changes", "changes", "get_many"]


def test_expired_tokens_give_a_full_listing() -> None:
    store = MemoryStore()
    a = store.create("a.ics", event("a"))
    token = store.changes(None).token
    store.expire_tokens()
    listing = store.changes(token)
    assert listing.full and listing.changed == {"a.ics": a.etag}
    assert not store.changes(listing.token).full


@pytest.mark.parametrize("token", ["garbage", "999", "-1", ""])
def test_unknown_tokens_give_a_full_listing(token: str) -> None:
    store = MemoryStore()
    store.create("a.ics", event("a"))
    assert store.changes(token).full


def test_created_and_deleted_between_syncs_is_reported_deleted() -> None:
    store = MemoryStore()
    token = store.changes(None).token
    item = store.create(resource_name("brief"), event("brief"))
    store.delete(item.href, item.etag)
    listing = store.changes(token)
    assert listing.changed == {} and listing.deleted == {item.href}


def test_read_only_store_refuses_writes() -> None:
    store = MemoryStore(read_only=True)
    with pytest.raises(ReadOnlyStore):
        store.create("a.ics", event("a"))
    with pytest.raises(ReadOnlyStore):
        store.delete("a.ics", '"m1"')
    assert store.changes(None).full
