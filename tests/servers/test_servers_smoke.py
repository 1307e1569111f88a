"""Smoke tests: what the real CalDAV servers do with the requests a CalDAV backend relies on.

Everything goes over raw HTTP (``http.client``), so these tests document the servers, not a
client library. Behaviour the RFCs prescribe is asserted directly; behaviour that differs
between servers or deviates from the RFCs is read from ``QUIRKS`` (caldav_servers.py), so the
table there is checked against reality on every run.
"""

from __future__ import annotations

import dataclasses
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from caldav.collection import Calendar
from caldav.davclient import DAVClient

from . import caldav_servers
from .caldav_servers import (
    CALDAV_NS,
    DAV_NS,
    LOOPBACK,
    SERVER_NAMES,
    SERVERS,
    CalDAVServer,
    DavResponse,
    ServerStartError,
    _server_process,
    dav_request,
    delete_resource,
    make_event,
    mkcalendar,
    parse_sync_response,
    propfind,
    put_ical,
    sync_collection,
    sync_collection_request,
)

pytestmark = pytest.mark.slow


def _new_event(calendar_url: str) -> tuple[str, str]:
    uid = uuid.uuid4().hex
    return uid, f"{calendar_url}{uid}.ics"


def _path(url: str) -> str:
    """The href form sync-collection reports (absolute path)."""
    return "/" + url.split("/", 3)[3]


def _error_tags(resp: DavResponse) -> set[str]:
    """Clark names of the precondition elements in a DAV:error body."""
    root = resp.xml()
    assert root.tag == f"{{{DAV_NS}}}error", resp.body
    return {child.tag for child in root}


def _create(server: CalDAVServer, url: str, uid: str, summary: str = "Smoke test") -> str:
    resp = put_ical(server, url, make_event(uid, summary), if_none_match="*")
    assert resp.status == 201, resp
    assert resp.etag is not None
    return resp.etag


def _current_etag(server: CalDAVServer, url: str) -> str | None:
    resp = dav_request(server, "GET", url)
    return resp.etag if resp.status == 200 else None


# --------------------------------------------------------------------------------------------
# The harness itself
# --------------------------------------------------------------------------------------------


def test_server_is_loopback_with_calendar_and_auth(caldav_server: CalDAVServer) -> None:
    assert caldav_server.base_url.startswith(f"http://{LOOPBACK}:")
    assert caldav_server.calendar_url.startswith(caldav_server.calendar_home_url)
    resp = propfind(caldav_server, caldav_server.calendar_url, [f"{{{DAV_NS}}}resourcetype"])
    assert resp.status == 207
    assert resp.xml().find(f".//{{{DAV_NS}}}resourcetype/{{{CALDAV_NS}}}calendar") is not None

    anonymous = dataclasses.replace(caldav_server, username=None, password=None)
    resp = propfind(anonymous, caldav_server.calendar_url, [f"{{{DAV_NS}}}resourcetype"])
    if caldav_server.quirks["auth"] == "basic":
        assert caldav_server.auth is not None
        assert resp.status == 401
        assert (resp.header("www-authenticate") or "").startswith("Basic ")
    else:
        assert caldav_server.auth is None
        assert resp.status == 207


def test_calendar_url_fixture_is_fresh_and_empty(
    caldav_server: CalDAVServer, calendar_url: str
) -> None:
    assert calendar_url.startswith(caldav_server.calendar_home_url)
    assert calendar_url not in (caldav_server.calendar_url, caldav_server.calendar_home_url)
    initial = sync_collection(caldav_server, calendar_url)
    assert initial.changed == {}
    assert initial.removed == frozenset()


@pytest.mark.parametrize("name", SERVER_NAMES)
def test_context_manager_stops_the_process_on_error(name: str, tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="boom"), SERVERS[name](tmp_path) as server:
        port = int(server.base_url.rsplit(":", 1)[1].rstrip("/"))
        assert dav_request(server, "OPTIONS", "/").status < 500
        raise RuntimeError("boom")
    with socket.socket() as sock:
        assert sock.connect_ex((LOOPBACK, port)) != 0, "server still listening after exit"


def test_startup_failure_reports_exit_status_and_output(tmp_path: Path) -> None:
    script = "import sys; print('the-server-said-no', file=sys.stderr); sys.exit(3)"
    with (
        pytest.raises(ServerStartError, match=r"(?s)exited with status 3.*the-server-said-no"),
        _server_process("broken", lambda port: [sys.executable, "-c", script], tmp_path, 20.0),
    ):
        pass


def test_startup_timeout_is_bounded(tmp_path: Path) -> None:
    script = "import time; print('still-booting', flush=True); time.sleep(60)"
    with (
        pytest.raises(ServerStartError, match=r"(?s)did not answer HTTP.*still-booting"),
        _server_process("silent", lambda port: [sys.executable, "-c", script], tmp_path, 1.0),
    ):
        pass


def test_caldav_library_works_against_the_fixture(
    caldav_server: CalDAVServer, calendar_url: str
) -> None:
    """The caldav library (used by the storage backend) talks to the server without warnings."""
    uid, url = _new_event(calendar_url)
    _create(caldav_server, url, uid)
    with DAVClient(
        url=calendar_url, username=caldav_server.username, password=caldav_server.password
    ) as client:
        calendar = Calendar(client=client, url=calendar_url)
        events = calendar.events()
    assert isinstance(events, list)
    assert [str(event.icalendar_component["UID"]) for event in events] == [uid]


# --------------------------------------------------------------------------------------------
# Conditional requests (RFC 9110 §13, RFC 4791 §5.3.2)
# --------------------------------------------------------------------------------------------


def test_conditional_create_then_second_create_is_412(
    caldav_server: CalDAVServer, calendar_url: str
) -> None:
    uid, url = _new_event(calendar_url)
    first = put_ical(caldav_server, url, make_event(uid), if_none_match="*")
    assert first.status == 201
    assert first.etag is not None and first.etag.startswith('"'), "strong ETag expected"

    second = put_ical(caldav_server, url, make_event(uid), if_none_match="*")
    assert second.status == 412
    assert _current_etag(caldav_server, url) == first.etag


def test_put_with_wrong_if_match_is_412(caldav_server: CalDAVServer, calendar_url: str) -> None:
    uid, url = _new_event(calendar_url)
    etag = _create(caldav_server, url, uid)

    wrong = put_ical(caldav_server, url, make_event(uid, "lost update"), if_match='"not-it"')
    assert wrong.status == 412
    # If-Match uses the strong comparison: the weak form of the current ETag never matches.
    weak = put_ical(caldav_server, url, make_event(uid, "lost update"), if_match=f"W/{etag}")
    assert weak.status == 412
    assert _current_etag(caldav_server, url) == etag

    right = put_ical(caldav_server, url, make_event(uid, "update"), if_match=etag)
    assert right.status == 204
    assert right.etag is not None and right.etag != etag
    assert _current_etag(caldav_server, url) == right.etag


def test_put_if_match_on_missing_resource_is_412(
    caldav_server: CalDAVServer, calendar_url: str
) -> None:
    uid, url = _new_event(calendar_url)
    assert put_ical(caldav_server, url, make_event(uid), if_match='"x"').status == 412
    assert dav_request(caldav_server, "GET", url).status == 404


def test_delete_with_if_match(caldav_server: CalDAVServer, calendar_url: str) -> None:
    quirks = caldav_server.quirks
    uid, url = _new_event(calendar_url)
    etag = _create(caldav_server, url, uid)

    assert delete_resource(caldav_server, url, if_match='"not-it"').status == 412
    assert _current_etag(caldav_server, url) == etag

    deleted = delete_resource(caldav_server, url, if_match=etag)
    assert deleted.status == quirks["delete_status"]
    if quirks["delete_body_is_multistatus"]:
        # Radicale: 200 OK + <multistatus><response><href>URL</href><status>200</status>...
        assert deleted.xml().tag == f"{{{DAV_NS}}}multistatus"
    else:
        assert deleted.body == b""
    assert dav_request(caldav_server, "GET", url).status == 404
    assert delete_resource(caldav_server, url, if_match=etag).status == 404


def test_quirk_if_match_star(caldav_server: CalDAVServer, calendar_url: str) -> None:
    uid, url = _new_event(calendar_url)
    _create(caldav_server, url, uid)
    resp = put_ical(caldav_server, url, make_event(uid, "star"), if_match="*")
    assert resp.status == (204 if caldav_server.quirks["if_match_star_honoured"] else 412)


def test_quirk_if_match_list(caldav_server: CalDAVServer, calendar_url: str) -> None:
    uid, url = _new_event(calendar_url)
    etag = _create(caldav_server, url, uid)
    honoured = caldav_server.quirks["if_match_list_honoured"]

    put = put_ical(caldav_server, url, make_event(uid, "list"), if_match=f'"not-it", {etag}')
    assert put.status == (204 if honoured else 412)
    etag = _current_etag(caldav_server, url) or ""

    deleted = delete_resource(caldav_server, url, if_match=f'"not-it", {etag}')
    if honoured:
        assert deleted.status == caldav_server.quirks["delete_status"]
    else:
        assert deleted.status == 412


def test_quirk_if_none_match_with_current_etag(
    caldav_server: CalDAVServer, calendar_url: str
) -> None:
    uid, url = _new_event(calendar_url)
    etag = _create(caldav_server, url, uid)
    resp = put_ical(caldav_server, url, make_event(uid, "overwritten?"), if_none_match=etag)
    if caldav_server.quirks["if_none_match_etag_honoured"]:
        assert resp.status == 412
        assert _current_etag(caldav_server, url) == etag
    else:
        # Radicale only evaluates `If-None-Match: *`; the resource is overwritten.
        assert resp.status == 204
        assert _current_etag(caldav_server, url) == resp.etag != etag


def test_quirk_put_etag_for_rewritten_body(caldav_server: CalDAVServer, calendar_url: str) -> None:
    uid, url = _new_event(calendar_url)
    sent = make_event(uid)
    put = put_ical(caldav_server, url, sent, if_none_match="*")
    get = dav_request(caldav_server, "GET", url)
    synced = sync_collection(caldav_server, calendar_url)

    # Whatever the server stored, the ETag of the PUT response is the stored object's ETag.
    assert put.etag is not None
    assert get.etag == put.etag
    assert synced.changed == {_path(url): put.etag}
    rewritten = get.body != sent
    assert rewritten == caldav_server.quirks["put_etag_for_rewritten_body"]
    assert f"UID:{uid}".encode() in get.body


def test_quirk_uid_conflict_status(caldav_server: CalDAVServer, calendar_url: str) -> None:
    uid, url = _new_event(calendar_url)
    _create(caldav_server, url, uid)
    other = put_ical(caldav_server, f"{calendar_url}other-{uid}.ics", make_event(uid))
    assert other.status == caldav_server.quirks["uid_conflict_status"]
    assert f"{{{CALDAV_NS}}}no-uid-conflict" in _error_tags(other)


def test_quirk_mkcalendar_on_existing_collection(
    caldav_server: CalDAVServer, calendar_url: str
) -> None:
    resp = mkcalendar(caldav_server, calendar_url)
    assert resp.status == caldav_server.quirks["mkcalendar_existing_status"]
    assert f"{{{DAV_NS}}}resource-must-be-null" in _error_tags(resp)


# --------------------------------------------------------------------------------------------
# sync-collection (RFC 6578)
# --------------------------------------------------------------------------------------------


def test_sync_collection_reports_exactly_the_one_change(
    caldav_server: CalDAVServer, calendar_url: str
) -> None:
    initial = sync_collection(caldav_server, calendar_url)
    assert initial.token
    assert initial.changed == {} and initial.removed == frozenset()

    uid_a, url_a = _new_event(calendar_url)
    etag_a = _create(caldav_server, url_a, uid_a)
    after_a = sync_collection(caldav_server, calendar_url, initial.token)
    assert after_a.changed == {_path(url_a): etag_a}
    assert after_a.removed == frozenset()
    assert after_a.token != initial.token

    uid_b, url_b = _new_event(calendar_url)
    etag_b = _create(caldav_server, url_b, uid_b)
    after_b = sync_collection(caldav_server, calendar_url, after_a.token)
    assert after_b.changed == {_path(url_b): etag_b}, "only the change since the token"
    assert after_b.removed == frozenset()

    updated = put_ical(caldav_server, url_a, make_event(uid_a, "moved"), if_match=etag_a)
    assert updated.status == 204
    after_update = sync_collection(caldav_server, calendar_url, after_b.token)
    assert after_update.changed == {_path(url_a): updated.etag}
    assert after_update.removed == frozenset()

    unchanged = sync_collection(caldav_server, calendar_url, after_update.token)
    assert unchanged.changed == {} and unchanged.removed == frozenset()
    assert unchanged.token == after_update.token

    full = sync_collection(caldav_server, calendar_url)
    assert full.changed == {_path(url_a): updated.etag, _path(url_b): etag_b}


def test_sync_collection_reports_deletion_as_404(
    caldav_server: CalDAVServer, calendar_url: str
) -> None:
    uid, url = _new_event(calendar_url)
    etag = _create(caldav_server, url, uid)
    before = sync_collection(caldav_server, calendar_url)
    assert before.changed == {_path(url): etag}

    assert delete_resource(caldav_server, url, if_match=etag).status in (200, 204)
    after = sync_collection(caldav_server, calendar_url, before.token)
    assert after.changed == {}
    assert after.removed == frozenset({_path(url)})


def test_quirk_sync_token_is_uri(caldav_server: CalDAVServer, calendar_url: str) -> None:
    token = sync_collection(caldav_server, calendar_url).token
    looks_like_uri = ":" in token and token.split(":", 1)[0].isalpha()
    assert looks_like_uri == caldav_server.quirks["sync_token_is_uri"], token


def test_quirk_sync_token_tracks_content(caldav_server: CalDAVServer, calendar_url: str) -> None:
    before = sync_collection(caldav_server, calendar_url)
    uid, url = _new_event(calendar_url)
    etag = _create(caldav_server, url, uid)
    assert delete_resource(caldav_server, url, if_match=etag).status in (200, 204)

    after = sync_collection(caldav_server, calendar_url, before.token)
    assert after.changed == {}
    if caldav_server.quirks["sync_token_tracks_content"]:
        # Xandikos: same contents, same token, nothing to report.
        assert after.token == before.token
        assert after.removed == frozenset()
    else:
        # Radicale: a new token, and the member the client never saw is reported as removed.
        assert after.token != before.token
        assert after.removed == frozenset({_path(url)})


@pytest.mark.parametrize(
    "bad_token", ["http://example.invalid/never-issued", "0" * 40], ids=["uri", "hex"]
)
def test_quirk_invalid_sync_token(
    caldav_server: CalDAVServer, calendar_url: str, bad_token: str
) -> None:
    resp = sync_collection_request(caldav_server, calendar_url, bad_token)
    assert resp.status == caldav_server.quirks["sync_invalid_token_status"]
    assert f"{{{DAV_NS}}}valid-sync-token" in _error_tags(resp)


def test_quirk_sync_depth_other_than_0(caldav_server: CalDAVServer, calendar_url: str) -> None:
    uid, url = _new_event(calendar_url)
    _create(caldav_server, url, uid)
    # Depth absent means 0 (RFC 3253 §3.6) and must work everywhere.
    assert parse_sync_response(
        sync_collection_request(caldav_server, calendar_url, depth=None)
    ).changed.keys() == {_path(url)}
    resp = sync_collection_request(caldav_server, calendar_url, depth="1")
    assert resp.status == caldav_server.quirks["sync_depth_1_status"]
    if resp.status == 207:
        assert parse_sync_response(resp).changed.keys() == {_path(url)}


def test_quirk_sync_limit(caldav_server: CalDAVServer, calendar_url: str) -> None:
    initial = sync_collection(caldav_server, calendar_url)
    urls = set()
    for _ in range(3):
        uid, url = _new_event(calendar_url)
        _create(caldav_server, url, uid)
        urls.add(_path(url))

    resp = sync_collection_request(caldav_server, calendar_url, initial.token, limit=1)
    limited = parse_sync_response(resp)
    truncation_marked = any(
        " 507 " in (status.text or "") for status in resp.xml().iter(f"{{{DAV_NS}}}status")
    )
    follow_up = sync_collection(caldav_server, calendar_url, limited.token)
    behaviour = caldav_server.quirks["sync_limit"]
    if behaviour == "ignored":
        assert set(limited.changed) == urls
        assert not truncation_marked
        assert follow_up.changed == {}
    else:
        # Xandikos: one member, no 507, and the token skips the other two for good.
        assert behaviour == "truncates_and_skips"
        assert len(limited.changed) == 1 and set(limited.changed) < urls
        assert not truncation_marked
        assert follow_up.changed == {} and follow_up.removed == frozenset()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux-only")
def test_server_dies_with_a_killed_test_process(tmp_path: Path) -> None:
    """Even a SIGKILLed test process (no finally, no atexit) takes its server down."""
    module_dir = Path(caldav_servers.__file__).parent
    script = (
        "import sys, time\n"
        f"sys.path.insert(0, {str(module_dir)!r})\n"
        "import caldav_servers\n"
        f"with caldav_servers.radicale_server(caldav_servers.Path({str(tmp_path)!r})) as s:\n"
        "    print(s.base_url, flush=True)\n"
        "    time.sleep(60)\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True
    ) as owner:
        try:
            assert owner.stdout is not None
            base_url = owner.stdout.readline().strip()
            assert base_url.startswith(f"http://{LOOPBACK}:"), base_url
            port = int(base_url.rsplit(":", 1)[1].rstrip("/"))
        finally:
            owner.kill()
            owner.wait()
    deadline = time.monotonic() + 10
    while True:
        with socket.socket() as sock:
            if sock.connect_ex((LOOPBACK, port)) != 0:
                break
        assert time.monotonic() < deadline, "orphaned server still listening"
        time.sleep(0.05)
