"""VdirStore: the contract, plus what a folder shared with khal and vdirsyncer must survive."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from calbridge.calendars.base import AlreadyExists, EtagMismatch, ReadOnlyStore, StorageError
from calbridge.calendars.vdir import VdirStore

from .contract import StoreContract, event, summary_of


class TestVdirStore(StoreContract):
    incremental = False  # any change gives a full listing (the token digests the folder)

    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[VdirStore]:
        yield VdirStore(tmp_path / "calendar")


def test_missing_folder_is_created_with_parents_only_inside_parents_within(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "deep" / "er" / "calendar"
    VdirStore(folder, parents_within=tmp_path)
    assert folder.is_dir()


def test_files_are_named_by_member_name_and_hold_the_bytes(tmp_path: Path) -> None:
    store = VdirStore(tmp_path)
    item = store.create("abc@example.org.ics", event("abc@example.org"))
    assert item.href == "abc@example.org.ics"
    assert (tmp_path / "abc@example.org.ics").read_bytes() == event("abc@example.org")


def test_other_files_temp_files_and_folders_are_ignored(tmp_path: Path) -> None:
    store = VdirStore(tmp_path)
    item = store.create("a.ics", event("a"))
    (tmp_path / "notes.txt").write_text("not a calendar")
    (tmp_path / ".a.ics.0123abcd.tmp").write_bytes(b"half written")
    (tmp_path / "sub.ics").mkdir()
    (tmp_path / ".vdirsyncer").mkdir()
    assert store.changes(None).changed == {"a.ics": item.etag}
    assert store.get_many(["sub.ics"]) == []


def test_no_temp_files_are_left_behind(tmp_path: Path) -> None:
    store = VdirStore(tmp_path)
    item = store.create("a.ics", event("a"))
    with pytest.raises(AlreadyExists):
        store.create("a.ics", event("a"))
    etag = store.update("a.ics", event("a", "v2"), item.etag)
    with pytest.raises(EtagMismatch):
        store.update("a.ics", event("a", "v3"), item.etag)
    store.delete("a.ics", etag)
    assert list(tmp_path.iterdir()) == []


def test_an_edit_by_another_program_changes_etag_and_token(tmp_path: Path) -> None:
    store = VdirStore(tmp_path)
    item = store.create("a.ics", event("a"))
    token = store.changes(None).token
    path = tmp_path / "a.ics"
    path.write_bytes(event("a", "edited in khal"))  # in place, same inode
    os.utime(path, ns=(0, path.stat().st_mtime_ns + 1_000))
    listing = store.changes(token)
    assert listing.full and listing.token != token
    assert listing.changed["a.ics"] != item.etag
    with pytest.raises(EtagMismatch):
        store.update("a.ics", event("a", "calbridge"), item.etag)
    [current] = store.get_many(["a.ics"])
    assert summary_of(current.data) == "edited in khal"
    assert current.etag == listing.changed["a.ics"]


def test_a_file_added_by_another_program_is_listed(tmp_path: Path) -> None:
    store = VdirStore(tmp_path)
    token = store.changes(None).token
    (tmp_path / "from-khal.ics").write_bytes(event("from-khal"))
    listing = store.changes(token)
    assert set(listing.changed) == {"from-khal.ics"}


def test_every_write_gives_a_new_etag_even_for_the_same_bytes(tmp_path: Path) -> None:
    store = VdirStore(tmp_path)
    item = store.create("same.ics", event("same"))
    etags = [item.etag]
    for _ in range(5):  # faster than a coarse filesystem clock ticks
        etags.append(store.update(item.href, event("same"), etags[-1]))
    assert len(set(etags)) == len(etags)


def test_two_stores_on_one_folder_cannot_both_create_a_name(tmp_path: Path) -> None:
    first, second = VdirStore(tmp_path), VdirStore(tmp_path)
    first.create("race.ics", event("race", "first"))
    with pytest.raises(AlreadyExists):
        second.create("race.ics", event("race", "second"))
    [kept] = second.get_many(["race.ics"])
    assert summary_of(kept.data) == "first"


def test_read_only_store_refuses_writes(tmp_path: Path) -> None:
    VdirStore(tmp_path).create("a.ics", event("a"))
    store = VdirStore(tmp_path, read_only=True)
    with pytest.raises(ReadOnlyStore):
        store.create("b.ics", event("b"))
    with pytest.raises(ReadOnlyStore):
        store.update("a.ics", event("a"), "x")
    assert set(store.changes(None).changed) == {"a.ics"}


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_an_unreadable_folder_is_a_storage_error_not_an_empty_calendar(tmp_path: Path) -> None:
    store = VdirStore(tmp_path / "cal")
    store.create("a.ics", event("a"))
    (tmp_path / "cal").chmod(0)
    try:
        with pytest.raises(StorageError):
            store.changes(None)
    finally:
        (tmp_path / "cal").chmod(0o755)


def test_a_folder_that_disappeared_is_a_storage_error(tmp_path: Path) -> None:
    store = VdirStore(tmp_path / "cal")
    (tmp_path / "cal").rmdir()
    with pytest.raises(StorageError):
        store.changes(None)
