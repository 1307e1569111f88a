"""The sync planner on plain values: every case of (book, status, server)."""

from __future__ import annotations

from calbridge.sync.planner import Kind, Known, Remote, Wanted, plan


def want(uid: str, fp: str | None = "fp1") -> Wanted:
    return Wanted(uid, None if fp is None else fp.encode(), fp)


def known(uid: str, etag: str = "e1", fp: str = "fp1") -> Known:
    return Known(uid, f"/cal/{uid}.ics", etag, fp)


def remote(uid: str, etag: str = "e1", fp: str = "fp1") -> Remote:
    return Remote(uid, f"/cal/{uid}.ics", etag, fp, fp.encode())


def kinds(**kw: object) -> list[tuple[Kind, str]]:
    args = {"wanted": {}, "known": {}, "remote": {}, "deleted": set(), "full": False}
    args.update(kw)
    result = plan(**args)  # type: ignore[arg-type]
    return [(a.kind, a.uid) for a in result.actions]


def test_new_session_is_created() -> None:
    assert kinds(wanted={"a": want("a")}) == [(Kind.CREATE, "a")]


def test_first_sync_matches_by_uid_instead_of_duplicating() -> None:
    same = kinds(wanted={"a": want("a")}, remote={"a": remote("a")}, full=True)
    assert same == [(Kind.ADOPT, "a")]
    differs = kinds(wanted={"a": want("a", "fp2")}, remote={"a": remote("a")}, full=True)
    assert differs == [(Kind.UPDATE, "a")]


def test_an_unrecorded_event_of_a_cancelled_session_is_deleted() -> None:
    got = kinds(wanted={"a": want("a", None)}, remote={"a": remote("a")}, full=True)
    assert got == [(Kind.DELETE, "a")]
    assert kinds(wanted={"a": want("a", None)}, full=True) == []


def test_events_calbridge_did_not_create_are_left_alone() -> None:
    assert kinds(remote={"x": remote("x")}, full=True) == []


def test_book_change_is_pushed_with_if_match() -> None:
    result = plan({"a": want("a", "fp2")}, {"a": known("a")}, {}, set(), False)
    (action,) = result.actions
    assert (action.kind, action.etag, action.href) == (Kind.UPDATE, "e1", "/cal/a.ics")


def test_unchanged_on_both_sides_does_nothing() -> None:
    assert kinds(wanted={"a": want("a")}, known={"a": known("a")}) == []
    assert kinds(known={"a": known("a")}, remote={"a": remote("a")}, full=True) == []


def test_cancelled_in_book_is_deleted_from_calendar() -> None:
    result = plan({"a": want("a", None)}, {"a": known("a")}, {}, set(), False)
    assert [(a.kind, a.etag) for a in result.actions] == [(Kind.DELETE, "e1")]


def test_calendar_edit_is_imported() -> None:
    got = kinds(known={"a": known("a")}, remote={"a": remote("a", "e2", "fp9")})
    assert got == [(Kind.IMPORT, "a")]


def test_server_reserialization_is_adopted_not_imported() -> None:
    got = kinds(known={"a": known("a")}, remote={"a": remote("a", "e2", "fp1")})
    assert got == [(Kind.ADOPT, "a")]
    both = plan({"a": want("a", "fp3")}, {"a": known("a")}, {"a": remote("a", "e2")}, set(), False)
    assert [(x.kind, x.etag) for x in both.actions] == [(Kind.UPDATE, "e2")]


def test_own_write_lost_in_a_crash_is_adopted() -> None:
    got = kinds(
        wanted={"a": want("a", "fp2")},
        known={"a": known("a")},
        remote={"a": remote("a", "e2", "fp2")},
    )
    assert got == [(Kind.ADOPT, "a")]


def test_deleted_in_calendar_cancels_in_book() -> None:
    assert kinds(known={"a": known("a")}, deleted={"a"}) == [(Kind.CANCEL, "a")]
    assert kinds(known={"a": known("a")}, remote={}, full=True) == [(Kind.CANCEL, "a")]
    assert kinds(wanted={"a": want("a", None)}, known={"a": known("a")}, deleted={"a"}) == [
        (Kind.FORGET, "a")
    ]


def test_both_edited_the_book_cancellation_wins() -> None:
    got = kinds(
        wanted={"a": want("a", None)},
        known={"a": known("a")},
        remote={"a": remote("a", "e2", "fp9")},
    )
    assert got == [(Kind.DELETE, "a")]


def test_a_calendar_that_suddenly_looks_empty_deletes_nothing() -> None:
    many = {u: known(u) for u in "abcdef"}
    result = plan({}, many, {}, set(), True)
    assert result.actions == [] and result.held_back and "6 of 6" in result.held_back
    few = plan({}, many, {u: remote(u) for u in "abcde"}, set(), True)
    assert [(a.kind, a.uid) for a in few.actions] == [(Kind.CANCEL, "f")]
    assert few.held_back is None


def unconfirmed(uid: str, pending: str = "fp1") -> Known:
    """A create that was sent, its confirmation never recorded (a crash in between)."""
    return Known(uid, f"/cal/{uid}.ics", "", "", pending)


def test_an_unconfirmed_create_the_server_lacks_is_sent_again() -> None:
    for full in (True, False):
        got = kinds(wanted={"a": want("a")}, known={"a": unconfirmed("a")}, full=full)
        assert got == [(Kind.CREATE, "a")]


def test_an_unconfirmed_create_reported_deleted_is_a_cancellation() -> None:
    got = kinds(known={"a": unconfirmed("a")}, deleted={"a"}, full=False)
    assert got == [(Kind.CANCEL, "a")]


def test_an_unconfirmed_create_that_arrived_is_adopted_or_imported_if_edited() -> None:
    arrived = kinds(known={"a": unconfirmed("a")}, remote={"a": remote("a", "e9")})
    assert arrived == [(Kind.ADOPT, "a")]
    edited = kinds(known={"a": unconfirmed("a")}, remote={"a": remote("a", "e9", "fp7")})
    assert edited == [(Kind.IMPORT, "a")]


def test_our_own_unconfirmed_update_on_the_server_is_no_calendar_edit() -> None:
    """The update to fp2 reached the server, then the pass died; the book moved on to fp3:
    the server's fp2 is calbridge's own write, so fp3 is pushed, nothing imported."""
    had = Known("a", "/cal/a.ics", "e1", "fp1", "fp2")
    got = kinds(
        wanted={"a": want("a", "fp3")}, known={"a": had}, remote={"a": remote("a", "e2", "fp2")}
    )
    assert got == [(Kind.UPDATE, "a")]
    quiet = kinds(known={"a": had}, remote={"a": remote("a", "e2", "fp2")})
    assert quiet == [(Kind.ADOPT, "a")]
