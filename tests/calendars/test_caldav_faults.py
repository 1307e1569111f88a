"""CalDAVStore under failure: rate limits, outages, refused connections, expired tokens.

Every fake is a real HTTP server on 127.0.0.1 (``fakes.FakeCalDAV``). Sleeps are recorded
instead of slept (the store takes a ``sleep`` function), so Retry-After can be checked exactly
without waiting for it.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from calbridge.calendars.base import (
    EtagMismatch,
    Listing,
    StorageError,
    TransientError,
    resource_name,
)
from calbridge.calendars.caldav import CalDAVStore
from calbridge.calendars.davhttp import RetryPolicy, parse_retry_after, retry_is_safe
from servers.caldav_servers import CalDAVServer

from .contract import event
from .fakes import FakeCalDAV

FAST = RetryPolicy(attempts=4, backoff=0.01, max_backoff=0.05)


@pytest.fixture
def fake() -> Iterator[FakeCalDAV]:
    with FakeCalDAV() as server:
        yield server


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def store(fake: FakeCalDAV, sleeps: list[float]) -> Iterator[CalDAVStore]:
    with CalDAVStore(fake.url, retry=FAST, sleep=sleeps.append) as store:
        yield store


def _busy(status: int, retry_after: str | None = None) -> tuple[int, dict[str, str], bytes]:
    return status, ({"Retry-After": retry_after} if retry_after else {}), b""


# -- rate limits and outages -----------------------------------------------------------------


def test_429_with_retry_after_is_waited_out_then_succeeds(
    fake: FakeCalDAV, store: CalDAVStore, sleeps: list[float]
) -> None:
    etag = fake.put_member("a.ics", event("a"))
    fake.script.append(_busy(429, "7"))
    listing = store.changes(None)
    assert listing.full and listing.changed == {"/cal/a.ics": etag}
    assert sleeps == [7.0]
    assert fake.methods() == ["REPORT", "REPORT"]


def test_retry_after_as_an_http_date(
    fake: FakeCalDAV, store: CalDAVStore, sleeps: list[float]
) -> None:
    when = datetime.now(UTC) + timedelta(seconds=5)
    fake.script.append(_busy(503, format_datetime(when, usegmt=True)))
    store.changes(None)
    [slept] = sleeps
    assert 3.0 <= slept <= 5.0


def test_503_forever_is_a_transient_error_never_an_empty_listing(
    fake: FakeCalDAV, store: CalDAVStore, sleeps: list[float]
) -> None:
    fake.put_member("a.ics", event("a"))
    fake.script.extend([_busy(503, "1")] * 10)
    result: Listing | None = None
    with pytest.raises(TransientError) as caught:
        result = store.changes(None)
    assert result is None
    assert caught.value.retry_after == 1.0
    assert len(fake.seen) == FAST.attempts
    assert sleeps == [1.0] * (FAST.attempts - 1)


def test_503_without_retry_after_backs_off_exponentially(
    fake: FakeCalDAV, sleeps: list[float]
) -> None:
    fake.script.extend([_busy(503)] * 10)
    policy = RetryPolicy(attempts=4, backoff=1.0, max_backoff=3.0)
    store = CalDAVStore(fake.url, retry=policy, sleep=sleeps.append)
    with store, pytest.raises(TransientError) as caught:
        store.get_many(["/cal/a.ics"])
    assert caught.value.retry_after is None
    assert [int(s) for s in sleeps] == [1, 2, 3]  # 1, 2, 4 capped at 3; plus < 1 s jitter


def test_a_long_retry_after_is_handed_to_the_caller_not_slept(
    fake: FakeCalDAV, store: CalDAVStore, sleeps: list[float]
) -> None:
    fake.script.append(_busy(429, "3600"))
    with pytest.raises(TransientError) as caught:
        store.changes(None)
    assert caught.value.retry_after == 3600.0
    assert sleeps == [] and len(fake.seen) == 1


def test_conditional_writes_are_retried(
    fake: FakeCalDAV, store: CalDAVStore, sleeps: list[float]
) -> None:
    fake.script.append(_busy(503, "2"))
    item = store.create(resource_name("retried"), event("retried"))
    fake.script.append(_busy(502))
    etag = store.update(item.href, event("retried", "v2"), item.etag)
    fake.script.append(_busy(504))
    store.delete(item.href, etag)
    assert fake.methods() == ["PUT", "PUT", "PUT", "PUT", "DELETE", "DELETE"]
    assert fake.members == {}
    assert sleeps[0] == 2.0 and len(sleeps) == 3


def test_a_500_is_transient_and_not_retried(fake: FakeCalDAV, store: CalDAVStore) -> None:
    fake.script.append(_busy(500))
    with pytest.raises(TransientError):
        store.create("a.ics", event("a"))
    assert len(fake.seen) == 1


def test_a_write_whose_reply_was_lost_is_not_repeated_blindly(
    fake: FakeCalDAV, store: CalDAVStore
) -> None:
    item = store.create("a.ics", event("a"))
    fake.put_member("a.ics", event("a", "edited on the phone"))
    with pytest.raises(EtagMismatch):
        store.update(item.href, event("a", "calbridge"), item.etag)
    assert b"phone" in fake.members["a.ics"].data


def test_connection_refused_is_transient_for_every_operation(sleeps: list[float]) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with CalDAVStore(f"http://127.0.0.1:{port}/cal/", retry=FAST, sleep=sleeps.append) as store:
        for operation in (
            lambda: store.changes(None),
            lambda: store.changes("sync:http://example.invalid/1"),
            lambda: store.get_many(["/cal/a.ics"]),
            lambda: store.create("a.ics", event("a")),
            lambda: store.update("/cal/a.ics", event("a"), '"e1"'),
            lambda: store.delete("/cal/a.ics", '"e1"'),
        ):
            with pytest.raises(TransientError):
                operation()
    assert len(sleeps) == 6 * (FAST.attempts - 1)


def test_a_redirected_calendar_is_an_error_naming_the_new_url(store: CalDAVStore) -> None:
    moved = CalDAVStore(store.url.replace("/cal/", "/.well-known/caldav"))
    with moved, pytest.raises(StorageError, match="moved to /cal/"):
        moved.changes(None)


# -- servers without (full) RFC 6578 support -------------------------------------------------


@pytest.mark.parametrize(
    "refusal",
    [(403, "supported-report"), (501, None), (405, None)],
    ids=["403-supported-report", "501", "405"],
)
def test_without_sync_collection_an_unchanged_calendar_costs_one_propfind(
    refusal: tuple[int, str | None],
) -> None:
    status, condition = refusal
    body = f'<D:error xmlns:D="DAV:"><D:{condition}/></D:error>'.encode() if condition else b""
    with FakeCalDAV(sync=False, no_sync_answer=(status, {}, body)) as fake:
        etag = fake.put_member("a.ics", event("a"))
        with CalDAVStore(fake.url) as store:
            first = store.changes(None)
            assert first.full and first.changed == {"/cal/a.ics": etag}
            assert first.token is not None and first.token.startswith("ctag:")
            assert fake.methods() == ["REPORT", "PROPFIND", "PROPFIND"]

            fake.seen.clear()
            again = store.changes(first.token)
            assert again == Listing(first.token)
            assert [(s.method, s.headers["depth"]) for s in fake.seen] == [("PROPFIND", "0")]

            newer = fake.put_member("a.ics", event("a", "moved"))
            changed = store.changes(first.token)
            assert changed.full and changed.changed == {"/cal/a.ics": newer}


def test_without_ctag_the_listing_digest_is_the_token() -> None:
    with FakeCalDAV(sync=False, ctag=False) as fake, CalDAVStore(fake.url) as store:
        fake.put_member("a.ics", event("a"))
        first = store.changes(None)
        assert first.token is not None and first.token.startswith("list:")
        assert store.changes(first.token) == Listing(first.token, snapshot=True)
        fake.put_member("b.ics", event("b"))
        assert set(store.changes(first.token).changed) == {"/cal/a.ics", "/cal/b.ics"}


def test_truncated_sync_answers_are_followed_to_the_end() -> None:
    with FakeCalDAV(sync_page=2) as fake, CalDAVStore(fake.url) as store:
        token = store.changes(None).token
        etags = {f"/cal/m{i}.ics": fake.put_member(f"m{i}.ics", event(f"m{i}")) for i in range(5)}
        fake.seen.clear()
        listing = store.changes(token)
        assert not listing.full and listing.changed == etags
        assert fake.methods() == ["REPORT"] * 3
        assert store.changes(listing.token) == Listing(listing.token)


def test_requests_are_shaped_as_the_rfcs_say() -> None:
    with FakeCalDAV() as fake, CalDAVStore(fake.url) as store:
        for i in range(250):
            fake.put_member(f"m{i}.ics", event(f"m{i}"))
        listing = store.changes(None)
        items = store.get_many(sorted(listing.changed))
    assert len(items) == 250
    sync, *multigets = fake.seen
    assert (sync.method, sync.headers.get("depth")) == ("REPORT", "0")  # RFC 6578 §3.2
    assert b"limit" not in sync.body
    assert [seen.body.count(b"href>") // 2 for seen in multigets] == [100, 100, 50]
    assert all("depth" not in seen.headers for seen in multigets)  # RFC 4791 §7.9


def test_put_without_etag_fetches_it_instead_of_guessing() -> None:
    with FakeCalDAV(put_etag=False) as fake, CalDAVStore(fake.url) as store:
        item = store.create("a.ics", event("a"))
        assert item.etag == fake.members["a.ics"].etag
        assert fake.methods() == ["PUT", "PROPFIND"]


def test_bare_getetag_values_are_quoted_like_the_etag_header() -> None:
    with FakeCalDAV(bare_getetag=True) as fake, CalDAVStore(fake.url) as store:
        item = store.create("a.ics", event("a"))
        assert item.etag.startswith('"')
        assert store.changes(None).changed == {item.href: item.etag}
        [got] = store.get_many([item.href])
        assert got.etag == item.etag
        store.update(item.href, event("a", "v2"), got.etag)  # a valid If-Match


# -- expired or invalid sync tokens on the real servers --------------------------------------


@pytest.mark.parametrize(
    "bad_token",
    ["sync:http://radicale.org/ns/sync/" + "0" * 64, "sync:" + "0" * 40, "sync:garbage"],
    ids=["radicale-style", "xandikos-style", "garbage"],
)
def test_an_expired_sync_token_gives_a_full_listing_and_a_fresh_token(
    caldav_server: CalDAVServer, calendar_url: str, bad_token: str
) -> None:
    # Radicale answers 403, Xandikos 412, both with DAV:valid-sync-token.
    with CalDAVStore(calendar_url, caldav_server.auth) as store:
        item = store.create(resource_name("kept"), event("kept"))
        listing = store.changes(bad_token)
        assert listing.full and listing.changed == {item.href: item.etag}
        assert listing.token and listing.token != bad_token
        assert store.changes(listing.token) == Listing(listing.token)


# -- the retry rules themselves --------------------------------------------------------------


def test_parse_retry_after() -> None:
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after("120", now) == 120.0
    assert parse_retry_after("Thu, 01 Jan 2026 12:00:30 GMT", now) == 30.0
    assert parse_retry_after("Thu, 01 Jan 2026 11:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_only_idempotent_or_conditional_requests_are_retried() -> None:
    assert all(retry_is_safe(m, {}) for m in ("GET", "HEAD", "PROPFIND", "REPORT", "OPTIONS"))
    assert retry_is_safe("PUT", {"If-None-Match": "*"})
    assert retry_is_safe("PUT", {"if-match": '"e1"'})
    assert retry_is_safe("DELETE", {"If-Match": '"e1"'})
    assert not retry_is_safe("PUT", {})
    assert not retry_is_safe("DELETE", {})
    assert not retry_is_safe("POST", {"If-Match": '"e1"'})
