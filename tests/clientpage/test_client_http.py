"""The client page over HTTP (the real aiohttp app): GET never acts, every POST needs
the link's form token and our own Origin, refusals write nothing, links are never logged."""

from __future__ import annotations

import logging
import re
from datetime import datetime

import pytest
import requests

from book_helpers import at, plan_one, snapshot
from calbridge.book import Book, client_links
from calbridge.store import repo


def _status(book: Book, session_id: int) -> str:
    with book.transaction() as db:
        return repo.session_row(db, session_id).status


def _form(html: str) -> str:
    found = re.search(r'name="form" value="([^"]+)"', html)
    assert found, html
    return found[1]


def test_page_lists_and_get_never_acts(book: Book, base: str, token: str) -> None:
    session = plan_one(book, "2026-12-01T10:00")
    before = snapshot(book)
    got = requests.get(f"{base}/client/ana/{token}", timeout=10)
    assert got.status_code == 200
    assert "Tuesday 1 December 2026, 10:00" in got.text
    assert "Europe/London time, your coach&#x27;s timezone" in got.text
    assert 'name="viewport"' in got.text and "<script" not in got.text
    assert got.headers["Cache-Control"] == "no-store"
    assert got.headers["Referrer-Policy"] == "same-origin"
    for action in ("accept", "decline", "cancel", "move"):
        assert f'action="/client/ana/{token}/{action}"' in got.text
        assert requests.get(f"{base}/client/ana/{token}/{action}", timeout=10).status_code in (
            404,
            405,
        )
    assert snapshot(book) == before and _status(book, session.id or 0) == "requested"


def test_accept_through_the_form(book: Book, base: str, token: str) -> None:
    session = plan_one(book, "2026-12-01T10:00")
    page = f"{base}/client/ana/{token}"
    form = _form(requests.get(page, timeout=10).text)
    done = requests.post(
        f"{page}/accept",
        data={"form": form, "session": str(session.id)},
        headers={"Origin": base},
        timeout=10,
    )
    assert done.status_code == 200 and "Session accepted" in done.text
    assert _status(book, session.id or 0) == "scheduled"


@pytest.mark.parametrize(
    "headers, fields",
    [
        ({"Origin": "https://evil.example"}, True),  # another site's form
        ({"Origin": "null"}, True),  # a sandboxed or privacy-stripped origin
        ({"Referer": "https://evil.example/page"}, True),
        ({}, False),  # no form token at all
        ({"Origin": "BASE"}, False),
    ],
)
def test_csrf_refused_and_nothing_written(
    book: Book, base: str, token: str, headers: dict[str, str], fields: bool
) -> None:
    session = plan_one(book, "2026-12-01T10:00")
    page = f"{base}/client/ana/{token}"
    form = _form(requests.get(page, timeout=10).text)
    data = {"session": str(session.id)}
    if fields:
        data["form"] = form
    sent = {k: base if v == "BASE" else v for k, v in headers.items()}
    before = snapshot(book)
    for action in ("decline", "cancel"):
        post = dict(data, confirm="plain") if action == "cancel" else data
        got = requests.post(f"{page}/{action}", data=post, headers=sent, timeout=10)
        assert got.status_code == 403, got.text
    assert snapshot(book) == before and _status(book, session.id or 0) == "requested"


def test_a_form_token_of_an_old_link_is_refused(book: Book, base: str, token: str) -> None:
    session = plan_one(book, "2026-12-01T10:00")
    old_form = _form(requests.get(f"{base}/client/ana/{token}", timeout=10).text)
    fresh = client_links.revoke(book, "ana")["url"]
    got = requests.post(
        f"{fresh}/decline", data={"form": old_form, "session": str(session.id)}, timeout=10
    )
    assert got.status_code == 403 and _status(book, session.id or 0) == "requested"


def test_revoked_and_forged_links_get_pages(book: Book, base: str, token: str) -> None:
    assert requests.get(f"{base}/client/ana/{token}", timeout=10).status_code == 200
    client_links.revoke(book, "ana")
    gone = requests.get(f"{base}/client/ana/{token}", timeout=10)
    assert gone.status_code == 410 and "no longer works" in gone.text
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    bad = requests.get(f"{base}/client/ana/{forged}", timeout=10)
    assert bad.status_code == 403 and "not valid" in bad.text
    assert requests.get(f"{base}/client/ben/{token}", timeout=10).status_code == 403
    assert requests.get(f"{base}/client/ana/nonsense", timeout=10).status_code == 403


def test_bad_fields_are_refused_cleanly(book: Book, base: str, token: str) -> None:
    session = plan_one(book, "2026-12-01T10:00")
    page = f"{base}/client/ana/{token}"
    form = _form(requests.get(page, timeout=10).text)
    before = snapshot(book)
    for action, extra in (
        ("accept", {"session": "x"}),
        ("move", {"session": str(session.id), "start": "yesterday"}),
        ("move", {"session": str(session.id), "start": "2026-12-01T14:00"}),  # no offset
        ("move", {"session": str(session.id), "month": "2026-13"}),
        ("move", {"session": str(session.id), "month": "1999-01"}),
        ("cancel", {"session": "999999"}),
    ):
        got = requests.post(f"{page}/{action}", data={"form": form, **extra}, timeout=10)
        assert got.status_code in (400, 404), (action, extra, got.status_code)
        assert "Traceback" not in got.text
    assert snapshot(book) == before


def test_late_cancel_and_move_over_http(book: Book, base: str, token: str, clock: object) -> None:
    late = plan_one(book, "2026-11-23T10:00", service="coaching")
    other = plan_one(book, "2026-12-01T10:00", service="coaching")
    clock.now = at("2026-11-22T12:00")  # type: ignore[attr-defined]
    page = f"{base}/client/ana/{token}"
    form = _form(requests.get(page, timeout=10).text)
    terms = requests.post(
        f"{page}/cancel", data={"form": form, "session": str(late.id)}, timeout=10
    )
    assert terms.status_code == 200 and "GBP 60.00" in terms.text
    assert _status(book, late.id or 0) == "requested"  # shown, not done
    done = requests.post(
        f"{page}/cancel",
        data={"form": form, "session": str(late.id), "confirm": "late"},
        timeout=10,
    )
    assert done.status_code == 200 and "late cancellation (GBP 60.00)" in done.text
    times = requests.post(f"{page}/move", data={"form": form, "session": str(other.id)}, timeout=10)
    starts = re.findall(r'name="start" value="([^"]+)"', times.text)
    assert starts and "Later times" in times.text
    moved = requests.post(
        f"{page}/move",
        data={"form": form, "session": str(other.id), "start": starts[2]},
        timeout=10,
    )
    assert moved.status_code == 200 and "Session moved" in moved.text
    with book.transaction() as db:
        row = repo.session_row(db, other.id or 0)
        assert (row.start, row.status) == (datetime.fromisoformat(starts[2]), "scheduled")


def test_links_are_never_logged(
    book: Book, base: str, token: str, caplog: pytest.LogCaptureFixture
) -> None:
    session = plan_one(book, "2026-12-01T10:00")
    caplog.set_level(logging.DEBUG)
    page = f"{base}/client/ana/{token}"
    form = _form(requests.get(page, timeout=10).text)
    requests.post(f"{page}/decline", data={"session": str(session.id)}, timeout=10)  # refused
    requests.post(f"{page}/decline", data={"form": form, "session": str(session.id)}, timeout=10)
    requests.get(f"{base}/client/ana/{token}x", timeout=10)
    ours = [r for r in caplog.records if not r.name.startswith("urllib3")]  # the test's client
    assert ours  # the refusal was logged...
    logged = "\n".join(r.getMessage() for r in ours)
    assert token not in logged and form not in logged  # ...but never the link
