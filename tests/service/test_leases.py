"""Calendar leases on SQLite and PostgreSQL: exclusive claims, takeover, shared backoff."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select

from calbridge.book import Book
from calbridge.store import leases
from calbridge.store.leases import Outcome
from calbridge.store.tables_daemon import CalendarLeaseRow
from conftest import NOW

TTL = 30.0


def claim(book: Book, cid: str, owner: str, now=NOW, due_only: bool = True) -> bool:  # type: ignore[no-untyped-def]
    with book.transaction() as db:
        return leases.claim(db, cid, owner, now, TTL, due_only=due_only)


def release(book: Book, cid: str, owner: str, outcome: Outcome, now=NOW):  # type: ignore[no-untyped-def]
    with book.transaction() as db:
        return leases.release(db, cid, owner, now, outcome, 300, 30, 3600)


def row(book: Book, cid: str) -> CalendarLeaseRow:
    with book.transaction() as db:
        found = db.scalar(select(CalendarLeaseRow).where(CalendarLeaseRow.calendar_id == cid))
        assert found is not None
        return found


def test_one_owner_at_a_time_and_takeover_after_expiry(book: Book) -> None:
    with book.transaction() as db:
        leases.ensure(db, ["maia", "sam"], NOW)
        assert leases.ensure(db, ["maia", "sam"], NOW) is False  # idempotent
        assert sorted(leases.due(db, {"maia", "sam", "gone"}, NOW, 10)) == ["maia", "sam"]
        assert sorted(leases.due(db, None, NOW, 10)) == ["maia", "sam"]
        assert leases.ensure(db, ["maia"], NOW) is True  # sam is configured elsewhere
    assert claim(book, "maia", "a")
    assert not claim(book, "maia", "b")
    assert not claim(book, "maia", "a")  # not even twice by its owner
    with book.transaction() as db:
        assert leases.due(db, {"maia", "sam"}, NOW, 10) == ["sam"]
        assert leases.renew(db, {"maia"}, "a", NOW + timedelta(seconds=20), TTL) == {"maia"}
    # Renewed at +20 s: still held at +40 s, taken over once it expires (+50 s).
    assert not claim(book, "maia", "b", NOW + timedelta(seconds=40))
    assert claim(book, "maia", "b", NOW + timedelta(seconds=51))
    with book.transaction() as db:
        assert leases.renew(db, {"maia"}, "a", NOW + timedelta(seconds=52), TTL) == set()
    # The old owner's release changes nothing; the new owner's schedules the next sync.
    assert release(book, "maia", "a", Outcome(True)) is None
    later = NOW + timedelta(seconds=60)
    assert release(book, "maia", "b", Outcome(True), later) == later + timedelta(seconds=300)
    r = row(book, "maia")
    assert r.owner is None and r.last_owner == "b"
    assert r.expires_at == later and r.last_ok_at == later
    with book.transaction() as db:  # a renewal racing the release does not take it back
        assert leases.renew(db, {"maia"}, "b", later, TTL) == set()
    assert not claim(book, "maia", "a", later + timedelta(seconds=299))  # not due yet
    assert claim(book, "maia", "a", later + timedelta(seconds=299), due_only=False)  # --once


def test_failures_back_off_exponentially_and_honour_retry_after(book: Book) -> None:
    with book.transaction() as db:
        leases.ensure(db, ["maia"], NOW)
    now = NOW
    waits = []
    for outcome in (
        Outcome(False, "boom"),
        Outcome(False, "boom"),
        Outcome(False, "503", retry_after=1000.0),
        Outcome(False, "boom"),
    ):
        assert claim(book, "maia", "a", now)
        due = release(book, "maia", "a", outcome, now)
        waits.append((due - now).total_seconds())
        now = due
    assert waits == [30, 60, 1000, 240]
    r = row(book, "maia")
    assert r.failures == 4 and r.last_error == "boom" and r.last_ok_at is None
    assert claim(book, "maia", "a", now)
    assert release(book, "maia", "a", Outcome(True), now) == now + timedelta(seconds=300)
    assert row(book, "maia").failures == 0 and row(book, "maia").last_error is None


def test_racing_claimers_get_each_calendar_once(book: Book) -> None:
    ids = [f"c{k:02d}" for k in range(40)]
    with book.transaction() as db:
        leases.ensure(db, ids, NOW)
    won: dict[str, list[str]] = {}
    start = threading.Barrier(4)

    def claimer(owner: str) -> None:
        start.wait()
        got = []
        for cid in ids:
            if claim(book, cid, owner):
                got.append(cid)
        won[owner] = got

    threads = [threading.Thread(target=claimer, args=(f"o{k}",)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    claimed = sorted(c for got in won.values() for c in got)
    assert claimed == ids  # every calendar claimed exactly once


def test_claim_many_takes_only_free_due_calendars(book: Book) -> None:
    with book.transaction() as db:
        leases.ensure(db, ["a", "b", "c", "d"], NOW)
    assert claim(book, "b", "other")
    assert release(book, "c", "x", Outcome(True)) is None  # c is free and due
    with book.transaction() as db:
        assert leases.claim_many(db, {"a", "b", "c"}, "me", NOW, TTL) == ["a", "c"]
        assert leases.claim_many(db, {"a", "b", "c", "d"}, "me2", NOW, TTL) == ["d"]
        assert leases.claim_many(db, set(), "me", NOW, TTL) == []


def test_an_answer_while_the_calendar_is_syncing_keeps_it_due(book: Book) -> None:
    """A reply applied while a sync of the coach's calendar runs: that sync may have read
    the book before the reply, so giving the lease back leaves the calendar due at once,
    not an interval later (the answer would wait an hour otherwise)."""
    from datetime import UTC, datetime

    now = datetime.now(UTC)  # hurry() reads the database's clock
    with book.transaction() as db:
        leases.ensure(db, ["maia", "sam"], now)
    assert claim(book, "maia", "a", now)
    with book.transaction() as db:
        leases.hurry(db, ["maia", "sam"])
    done = now + timedelta(seconds=1)
    assert release(book, "maia", "a", Outcome(True), done) == done
    assert row(book, "maia").next_sync_at == done
    # Not hurried: the next sync an interval later, as before.
    assert claim(book, "maia", "a", done)
    assert release(book, "maia", "a", Outcome(True), done) == done + timedelta(seconds=300)
    # A free calendar waiting for its interval is made due now; a due one stays as it is.
    with book.transaction() as db:
        leases.hurry(db, ["maia"])
    assert row(book, "maia").next_sync_at <= datetime.now(UTC)
    assert row(book, "sam").next_sync_at == now


def test_release_many_gives_back_only_our_leases_each_with_its_interval(book: Book) -> None:
    """The daemon's batched give-back: each calendar due after its own interval, a hurried
    one due at once, one another instance took over left alone (and reported missing)."""
    from datetime import UTC, datetime

    now = datetime.now(UTC)  # hurry() reads the database's clock
    with book.transaction() as db:
        leases.ensure(db, ["a", "b", "c", "d"], now)
    for cid in ("a", "b", "c"):
        assert claim(book, cid, "me", now)
    expired = now + timedelta(seconds=TTL + 1)
    assert claim(book, "c", "other", expired)  # c's lease expired: taken over
    with book.transaction() as db:
        leases.hurry(db, ["b"])
    done = now + timedelta(seconds=5)
    with book.transaction() as db:
        nexts = leases.release_many(db, {"a": 300, "b": 300, "c": 300, "d": 300}, "me", done)
        assert leases.release_many(db, {}, "me", done) == {}
    assert nexts == {"a": done + timedelta(seconds=300), "b": done}
    for cid in ("a", "b"):
        r = row(book, cid)
        assert (r.owner, r.last_owner, r.expires_at, r.last_ok_at) == (None, "me", done, done)
        assert r.next_sync_at == nexts[cid]
    assert row(book, "c").owner == "other"
    assert row(book, "d").owner is None and row(book, "d").last_ok_at is None
    with book.transaction() as db:  # a failure before: a good pass resets it
        leases.release(db, "a", "x", done, Outcome(False, "boom"), 300, 30, 3600)
    assert claim(book, "a", "me", done, due_only=False)
    with book.transaction() as db:
        leases.release(db, "a", "me", done, Outcome(False, "boom"), 300, 30, 3600)
    assert row(book, "a").failures == 1
    assert claim(book, "a", "me", done, due_only=False)
    with book.transaction() as db:
        assert leases.release_many(db, {"a": 60}, "me", done) == {"a": done + timedelta(seconds=60)}
    assert row(book, "a").failures == 0 and row(book, "a").last_error is None


def test_unclaim_frees_a_queued_calendar_and_keeps_it_due(book: Book) -> None:
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    with book.transaction() as db:
        leases.ensure(db, ["a", "b", "c"], now)
    assert claim(book, "a", "me", now) and claim(book, "b", "me", now)
    assert claim(book, "c", "other", now)
    with book.transaction() as db:
        leases.hurry(db, ["b"])
    later = now + timedelta(seconds=2)
    with book.transaction() as db:
        assert leases.unclaim(db, ["a", "b", "c"], "me", later) == {"a", "b"}
        assert leases.unclaim(db, [], "me", later) == set()
    assert row(book, "a").next_sync_at == now and row(book, "a").last_ok_at is None
    assert row(book, "b").next_sync_at == later  # hurried: due, no longer marked
    assert (row(book, "a").owner, row(book, "a").last_owner) == (None, "me")
    assert row(book, "c").owner == "other"
    assert claim(book, "a", "someone", later)  # free and still due
