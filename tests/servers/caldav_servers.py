"""Real CalDAV servers as subprocesses on free loopback ports, plus a minimal raw-HTTP DAV client.

``radicale_server(tmp_path)`` and ``xandikos_server(tmp_path)`` are context managers that start
the server with ``sys.executable -m ...`` (the virtualenv's interpreter when run by
``.venv/bin/pytest``), wait until it answers HTTP, yield a :class:`CalDAVServer` and always stop
the process (SIGTERM, then SIGKILL after :data:`STOP_TIMEOUT`) when the ``with`` block ends,
also on exceptions. An ``atexit`` hook stops anything left over, and on Linux the server gets
PR_SET_PDEATHSIG, so it dies with the test process even when that is SIGKILLed.
Everything listens on 127.0.0.1 only and keeps its data and log (server stdout + stderr, in
``<tmp_path>/<name>/<name>.log``) under ``tmp_path``.

The command lines were taken from the installed sources (Radicale 3.9, Xandikos 0.4.10):

* Radicale: ``python -m radicale --config FILE``; ``--config`` replaces the default search path
  (``/etc/radicale/config``, ``~/.config/radicale/config``) and ``$RADICALE_CONFIG``, so no
  system configuration leaks in. Auth is ``htpasswd`` with ``htpasswd_encryption = plain``.
* Xandikos: ``python -m xandikos serve --no-detect-systemd -l 127.0.0.1 -p PORT -d DIR
  --defaults --state-dir DIR``. ``--defaults`` creates the principal ``/user/`` and the calendar
  ``/user/calendars/calendar/``. Xandikos refuses ``--htpasswd`` without ``--autocert`` (TLS), so
  it runs without authentication: ``username``/``password`` are ``None``.

The DAV helpers use :mod:`http.client` directly, one connection per request, so nothing (retries,
redirects, proxies, connection pools) sits between a test and the server, and nothing stays open.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import http.client
import os
import socket
import subprocess
import sys
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal, TypedDict
from urllib.parse import unquote, urljoin, urlsplit

from calbridge.calendars.davwire import Reply

__all__ = [
    "QUIRKS",
    "SERVERS",
    "SERVER_NAMES",
    "CalDAVServer",
    "DavResponse",
    "Quirks",
    "ServerStartError",
    "SyncResult",
    "dav_request",
    "delete_resource",
    "make_event",
    "mkcalendar",
    "parse_sync_response",
    "propfind",
    "put_ical",
    "radicale_server",
    "sync_collection",
    "sync_collection_request",
    "xandikos_server",
]

LOOPBACK: Final = "127.0.0.1"
STARTUP_TIMEOUT: Final = 20.0
"""Seconds a server gets to answer its first HTTP request."""
STOP_TIMEOUT: Final = 5.0
"""Seconds between SIGTERM and SIGKILL when stopping a server."""
REQUEST_TIMEOUT: Final = 10.0
"""Socket timeout of every request made by :func:`dav_request`."""
_PORT_ATTEMPTS: Final = 3
"""Starts on a new free port when the previous one was taken between probing and binding."""

RADICALE_USER: Final = "calbridge"
RADICALE_PASSWORD: Final = "calbridge-test-password"
XANDIKOS_PRINCIPAL: Final = "/user/"

DAV_NS: Final = "DAV:"
CALDAV_NS: Final = "urn:ietf:params:xml:ns:caldav"


class Quirks(TypedDict):
    """What a server really does where servers differ or deviate from the RFCs (see QUIRKS)."""

    auth: Literal["basic", "none"]
    delete_status: int
    delete_body_is_multistatus: bool
    if_match_star_honoured: bool
    if_match_list_honoured: bool
    if_none_match_etag_honoured: bool
    put_etag_for_rewritten_body: bool
    uid_conflict_status: int
    mkcalendar_existing_status: int
    sync_token_is_uri: bool
    sync_token_tracks_content: bool
    sync_invalid_token_status: int
    sync_depth_1_status: int
    sync_limit: Literal["ignored", "truncates_and_skips"]


# Observed on Radicale 3.9.0 and Xandikos 0.4.10 (see test_servers_smoke.py, which asserts every
# entry, so a server upgrade that changes one fails loudly instead of silently invalidating a
# contract test). What both servers do exactly as the RFCs say is asserted there directly:
# If-None-Match: * on an existing resource -> 412, a wrong (or weak W/) If-Match -> 412, a
# matching If-Match -> 204 with a new ETag, DELETE with a wrong If-Match -> 412, sync-collection
# reporting exactly the members changed since the token, with deletions as 404 responses.
QUIRKS: Final[Mapping[str, Quirks]] = {
    "radicale": {
        # htpasswd (plain) Basic auth; requests without credentials get 401.
        "auth": "basic",
        # DELETE answers 200 OK with a DAV:multistatus body (text/xml) instead of the usual
        # 204 No Content; RFC 9110 §9.3.5 allows both.
        "delete_status": 200,
        "delete_body_is_multistatus": True,
        # If-Match: * overwrites an existing resource (204). caldav 3.6's compatibility_hints
        # still lists Radicale as comparing "*" literally (measured on 3.8.0) - fixed in 3.9.
        "if_match_star_honoured": True,
        # DEVIATION (RFC 9110 §13.1.1): the If-Match header is compared with the ETag as one
        # literal string, so a list like `"x", "<current>"` fails with 412 (PUT and DELETE).
        "if_match_list_honoured": False,
        # DEVIATION (RFC 9110 §13.1.2): only `If-None-Match: *` is evaluated. A PUT with
        # `If-None-Match: "<current etag>"` overwrites the resource (204) instead of 412.
        "if_none_match_etag_honoured": False,
        # DEVIATION (RFC 4791 §5.3.4): the stored object is re-serialised (properties reordered,
        # e.g. DTSTAMP moved after DURATION), yet the PUT response carries an ETag. That ETag is
        # the one GET and sync-collection report later, i.e. it describes the stored bytes.
        "put_etag_for_rewritten_body": True,
        # A second resource with an existing UID: 409 Conflict + CALDAV:no-uid-conflict.
        "uid_conflict_status": 409,
        # MKCALENDAR on an existing collection: 409 Conflict + DAV:resource-must-be-null.
        "mkcalendar_existing_status": 409,
        # Tokens look like http://radicale.org/ns/sync/<sha256>.
        "sync_token_is_uri": True,
        # Every change makes a new token: a member created and deleted between two syncs is
        # reported as removed (404) although the client never saw it.
        "sync_token_tracks_content": False,
        # Unknown/invalid token: 403 Forbidden + <DAV:error><DAV:valid-sync-token/>.
        "sync_invalid_token_status": 403,
        # DEVIATION (RFC 6578 §3.2: Depth other than 0 -> 400): Depth: 1 is accepted (207).
        "sync_depth_1_status": 207,
        # DAV:limit/DAV:nresults is ignored: all changes are returned, no 507.
        "sync_limit": "ignored",
    },
    "xandikos": {
        # `--htpasswd` requires `--autocert` (TLS), so the test server runs without auth.
        "auth": "none",
        # DELETE answers 204 No Content without a body.
        "delete_status": 204,
        "delete_body_is_multistatus": False,
        "if_match_star_honoured": True,
        "if_match_list_honoured": True,
        "if_none_match_etag_honoured": True,
        # DEVIATION (RFC 4791 §5.3.4): stored objects are re-serialised (icalendar's canonical
        # property order: SUMMARY, DTSTART, ..., UID) but PUT still returns an ETag, which is the
        # ETag of the stored representation (GET and sync-collection report the same value).
        "put_etag_for_rewritten_body": True,
        # DEVIATION (RFC 4791 §1.2: preconditions fail with 403 or 409): a second resource with
        # an existing UID gets 412 Precondition Failed + CALDAV:no-uid-conflict.
        "uid_conflict_status": 412,
        # MKCALENDAR on an existing collection: 403 Forbidden + DAV:resource-must-be-null.
        "mkcalendar_existing_status": 403,
        # DEVIATION (RFC 6578 §4: the token MUST be a URI): tokens are bare 40-hex git SHAs.
        "sync_token_is_uri": False,
        # The token is a hash of the collection's contents: create + delete of a member between
        # two syncs gives back the old token and reports nothing.
        "sync_token_tracks_content": True,
        # DEVIATION (RFC 6578 §3.2 / RFC 4918 §16: precondition -> 403): an unknown/invalid
        # token gets 412 Precondition Failed + <DAV:error><DAV:valid-sync-token/>.
        "sync_invalid_token_status": 412,
        # DEVIATION (RFC 6578 §3.2: Depth other than 0 -> 400): Depth: 1 is accepted (207).
        "sync_depth_1_status": 207,
        # DEVIATION (RFC 6578 §3.6/§3.7), DATA LOSS for clients that send DAV:limit: the answer
        # is cut to nresults without a 507 for the collection, and the returned token is the
        # newest one, so the omitted members are never reported by later syncs.
        # Never send DAV:limit to Xandikos.
        "sync_limit": "truncates_and_skips",
    },
}


class ServerStartError(RuntimeError):
    """A server process did not come up; the message carries its command line and log."""


# --------------------------------------------------------------------------------------------
# Server handle
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CalDAVServer:
    """A running CalDAV server.

    URLs are absolute and end in ``/`` for collections. ``calendar_url`` is an existing calendar
    shared by everything using this server; tests that need isolation should create their own
    below ``calendar_home_url`` (see :meth:`new_calendar_url` and the ``calendar_url`` fixture).
    """

    name: str
    base_url: str
    principal_url: str
    calendar_home_url: str
    calendar_url: str
    username: str | None
    password: str | None
    data_dir: Path
    log_path: Path
    pid: int

    @property
    def quirks(self) -> Quirks:
        return QUIRKS[self.name]

    @property
    def auth(self) -> tuple[str, str] | None:
        """``(username, password)`` for HTTP Basic auth, or ``None`` when the server has none."""
        if self.username is None or self.password is None:
            return None
        return (self.username, self.password)

    def url(self, href: str) -> str:
        """Resolve an href (absolute path or URL, as found in a multistatus) against the server."""
        return urljoin(self.base_url, href)

    def new_calendar_url(self, slug: str | None = None) -> str:
        """A URL for a not yet existing calendar collection below the calendar home."""
        return urljoin(self.calendar_home_url, f"{slug or 'cal-' + uuid.uuid4().hex[:12]}/")

    def log_text(self) -> str:
        """The server's stdout/stderr so far (the last 8000 characters)."""
        return _read_log(self.log_path)


# --------------------------------------------------------------------------------------------
# Raw HTTP / DAV helpers
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DavResponse(Reply):
    """A reply as calbridge's wire returns it (names lower-cased, repeats joined)."""

    @property
    def etag(self) -> str | None:
        return self.header("etag")

    def xml(self) -> ET.Element:
        return ET.fromstring(self.body)


def dav_request(
    server: CalDAVServer,
    method: str,
    url: str,
    body: bytes | str | None = None,
    headers: Mapping[str, str] | None = None,
    *,
    timeout: float = REQUEST_TIMEOUT,
) -> DavResponse:
    """Send one request on a fresh connection, read the whole response and close everything."""
    target = urlsplit(server.url(url))
    if target.scheme != "http" or target.hostname is None:
        raise ValueError(f"only plain http URLs are supported: {url!r}")
    path = target.path or "/"
    if target.query:
        path += "?" + target.query
    all_headers = dict(headers or {})
    if server.auth is not None:
        token = base64.b64encode(":".join(server.auth).encode()).decode("ascii")
        all_headers.setdefault("Authorization", f"Basic {token}")
    payload = body.encode() if isinstance(body, str) else body
    conn = http.client.HTTPConnection(target.hostname, target.port, timeout=timeout)
    try:
        conn.request(method, path, body=payload, headers=all_headers)
        with conn.getresponse() as resp:
            data = resp.read()
            merged: dict[str, str] = {}
            for name, value in resp.getheaders():
                key = name.lower()
                merged[key] = f"{merged[key]}, {value}" if key in merged else value
            return DavResponse(resp.status, resp.reason, merged, data)
    finally:
        conn.close()


def make_event(uid: str, summary: str = "Smoke test", *, start: str = "20250102T100000Z") -> bytes:
    """A minimal valid VCALENDAR with one VEVENT (CRLF line endings)."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//calbridge//tests.servers//EN",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        "DTSTAMP:20250101T000000Z",
        f"DTSTART:{start}",
        "DURATION:PT1H",
        f"SUMMARY:{summary}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return ("\r\n".join(lines) + "\r\n").encode()


def put_ical(
    server: CalDAVServer,
    url: str,
    ical: bytes,
    *,
    if_match: str | None = None,
    if_none_match: str | None = None,
) -> DavResponse:
    headers = {"Content-Type": "text/calendar; charset=utf-8"}
    if if_match is not None:
        headers["If-Match"] = if_match
    if if_none_match is not None:
        headers["If-None-Match"] = if_none_match
    return dav_request(server, "PUT", url, ical, headers)


def delete_resource(server: CalDAVServer, url: str, *, if_match: str | None = None) -> DavResponse:
    headers = {} if if_match is None else {"If-Match": if_match}
    return dav_request(server, "DELETE", url, None, headers)


def mkcalendar(server: CalDAVServer, url: str, displayname: str | None = None) -> DavResponse:
    """RFC 4791 §5.3.1 MKCALENDAR (201 Created on success)."""
    body = None
    headers: dict[str, str] = {}
    if displayname is not None:
        root = ET.Element(f"{{{CALDAV_NS}}}mkcalendar")
        prop = ET.SubElement(ET.SubElement(root, f"{{{DAV_NS}}}set"), f"{{{DAV_NS}}}prop")
        ET.SubElement(prop, f"{{{DAV_NS}}}displayname").text = displayname
        body = ET.tostring(root, encoding="utf-8", xml_declaration=True)
        headers["Content-Type"] = "application/xml; charset=utf-8"
    return dav_request(server, "MKCALENDAR", url, body, headers)


def propfind(server: CalDAVServer, url: str, props: list[str], *, depth: str = "0") -> DavResponse:
    """PROPFIND for ``props`` given in Clark notation, e.g. ``"{DAV:}getetag"``."""
    root = ET.Element(f"{{{DAV_NS}}}propfind")
    prop = ET.SubElement(root, f"{{{DAV_NS}}}prop")
    for name in props:
        ET.SubElement(prop, name)
    body = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    headers = {"Content-Type": "application/xml; charset=utf-8", "Depth": depth}
    return dav_request(server, "PROPFIND", url, body, headers)


@dataclass(frozen=True)
class SyncResult:
    """A parsed RFC 6578 sync-collection answer; hrefs are unquoted absolute paths."""

    token: str
    changed: Mapping[str, str | None]
    """href -> DAV:getetag (None if the server sent none) for new or modified members."""
    removed: frozenset[str]
    """hrefs reported with status 404 (deleted members)."""


def sync_collection_request(
    server: CalDAVServer,
    url: str,
    sync_token: str | None = None,
    *,
    depth: str | None = "0",
    limit: int | None = None,
) -> DavResponse:
    """Send a DAV:sync-collection REPORT (RFC 6578 §3.2) with sync-level 1, asking for getetag.

    ``sync_token=None`` sends an empty DAV:sync-token (initial sync). RFC 6578 defines the report
    only for ``Depth: 0`` (the default when absent); ``depth=None`` omits the header.
    ``limit`` adds DAV:limit/DAV:nresults (see QUIRKS["xandikos"]["sync_limit"] before using it).
    """
    root = ET.Element(f"{{{DAV_NS}}}sync-collection")
    ET.SubElement(root, f"{{{DAV_NS}}}sync-token").text = sync_token or None
    ET.SubElement(root, f"{{{DAV_NS}}}sync-level").text = "1"
    if limit is not None:
        nresults = ET.SubElement(ET.SubElement(root, f"{{{DAV_NS}}}limit"), f"{{{DAV_NS}}}nresults")
        nresults.text = str(limit)
    prop = ET.SubElement(root, f"{{{DAV_NS}}}prop")
    ET.SubElement(prop, f"{{{DAV_NS}}}getetag")
    body = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    headers = {"Content-Type": "application/xml; charset=utf-8"}
    if depth is not None:
        headers["Depth"] = depth
    return dav_request(server, "REPORT", url, body, headers)


def parse_sync_response(resp: DavResponse) -> SyncResult:
    if resp.status != 207:
        raise AssertionError(
            f"sync-collection: expected 207, got {resp.status} {resp.reason}: {resp.body[:500]!r}"
        )
    root = resp.xml()
    token = root.findtext(f"{{{DAV_NS}}}sync-token")
    if not token:
        raise AssertionError(f"sync-collection answer without DAV:sync-token: {resp.body!r}")
    changed: dict[str, str | None] = {}
    removed: set[str] = set()
    for response in root.iter(f"{{{DAV_NS}}}response"):
        href = _normalise_href(response.findtext(f"{{{DAV_NS}}}href") or "")
        status = response.findtext(f"{{{DAV_NS}}}status")
        if status is not None and " 404 " in f"{status} ":
            removed.add(href)
            continue
        etag: str | None = None
        for propstat in response.iter(f"{{{DAV_NS}}}propstat"):
            if " 200 " in f"{propstat.findtext(f'{{{DAV_NS}}}status') or ''} ":
                etag = propstat.findtext(f"{{{DAV_NS}}}prop/{{{DAV_NS}}}getetag") or etag
        changed[href] = etag
    return SyncResult(token=token, changed=changed, removed=frozenset(removed))


def sync_collection(server: CalDAVServer, url: str, sync_token: str | None = None) -> SyncResult:
    return parse_sync_response(sync_collection_request(server, url, sync_token))


def _normalise_href(href: str) -> str:
    return unquote(urlsplit(href.strip()).path)


# --------------------------------------------------------------------------------------------
# Process management
# --------------------------------------------------------------------------------------------

_LIVE: set[subprocess.Popen[bytes]] = set()

# Linux only: the server is started through this launcher, which sets PR_SET_PDEATHSIG (prctl
# option 1) to SIGTERM and then exec()s the real command line in the same process. So even if
# the test process is SIGKILLed (CI timeout), the kernel terminates the server. The signal is
# tied to the *thread* that started the server: start servers from the main thread (pytest
# fixtures run there) or from a thread that outlives them.
_PDEATHSIG_LAUNCHER: Final = """\
import ctypes, os, signal, sys
if ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM) != 0:
    raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
if os.getppid() != int(sys.argv[1]):
    sys.exit("test process exited before the server started")
os.execv(sys.argv[2], sys.argv[2:])
"""


def _with_parent_death_signal(argv: list[str]) -> list[str]:
    if not sys.platform.startswith("linux"):
        return argv
    return [sys.executable, "-c", _PDEATHSIG_LAUNCHER, str(os.getpid()), *argv]


@atexit.register
def _stop_leftovers() -> None:
    """Last line of defence (the context managers already stop their process)."""
    for proc in list(_LIVE):
        _stop(proc)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    try:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    finally:
        _LIVE.discard(proc)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def _read_log(path: Path, limit: int = 8000) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""
    return text if len(text) <= limit else "...\n" + text[-limit:]


def _child_env(state_dir: Path) -> dict[str, str]:
    """The test environment minus variables that reconfigure the servers behind our back."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("RADICALE_", "XANDIKOS_")) and key != "EMAIL"
    }
    env["XDG_DATA_HOME"] = str(state_dir)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _answers_http(port: int) -> bool:
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=1.0)
    try:
        conn.request("OPTIONS", "/")
        with conn.getresponse() as resp:
            resp.read()
        return True
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


@contextlib.contextmanager
def _server_process(
    name: str,
    argv_for_port: Callable[[int], list[str]],
    workdir: Path,
    startup_timeout: float,
) -> Iterator[tuple[int, subprocess.Popen[bytes], Path]]:
    """Start ``argv_for_port(port)`` until it answers HTTP; stop it when the block ends."""
    log_path = workdir / f"{name}.log"
    env = _child_env(workdir / "xdg-data")
    deadline = time.monotonic() + startup_timeout
    proc: subprocess.Popen[bytes] | None = None
    port = 0
    for attempt in range(1, _PORT_ATTEMPTS + 1):
        port = _free_port()
        argv = argv_for_port(port)
        with log_path.open("ab") as log:
            log.write(f"=== attempt {attempt}: {' '.join(argv)}\n".encode())
            log.flush()
            proc = subprocess.Popen(
                _with_parent_death_signal(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=workdir,
                env=env,
            )
        _LIVE.add(proc)
        try:
            while proc.poll() is None and time.monotonic() < deadline:
                if _answers_http(port):
                    break
                time.sleep(0.05)
        except BaseException:
            _stop(proc)
            raise
        if proc.poll() is None and _answers_http(port):
            break
        _stop(proc)
        log_text = _read_log(log_path)
        this_attempt = log_text.split(f"=== attempt {attempt}:")[-1].lower()
        if "address already in use" in this_attempt and (
            attempt < _PORT_ATTEMPTS and time.monotonic() < deadline
        ):
            continue
        if proc.returncode is not None and time.monotonic() < deadline:
            what = f"exited with status {proc.returncode} before answering HTTP"
        else:
            what = f"did not answer HTTP on {LOOPBACK}:{port} within {startup_timeout:.0f}s"
        raise ServerStartError(
            f"{name} {what}.\ncommand: {' '.join(argv)}\nlog ({log_path}):\n{log_text}"
        )
    assert proc is not None
    try:
        yield port, proc, log_path
    except BaseException:
        _stop(proc)
        raise
    crashed = proc.poll()
    _stop(proc)
    if crashed is not None:
        raise RuntimeError(
            f"{name} died while in use (exit status {crashed}).\n"
            f"log ({log_path}):\n{_read_log(log_path)}"
        )


def _check_calendar(server: CalDAVServer) -> None:
    resp = propfind(server, server.calendar_url, [f"{{{DAV_NS}}}resourcetype"])
    calendar = f".//{{{DAV_NS}}}resourcetype/{{{CALDAV_NS}}}calendar"
    if resp.status != 207 or resp.xml().find(calendar) is None:
        raise ServerStartError(
            f"{server.name}: {server.calendar_url} is not a calendar collection: "
            f"{resp.status} {resp.body[:500]!r}\nlog:\n{server.log_text()}"
        )


_RADICALE_CONFIG: Final = """\
[server]
hosts = {host}:{port}
max_connections = 20

[auth]
type = htpasswd
htpasswd_filename = {users}
htpasswd_encryption = plain
delay = 0

[rights]
type = owner_only

[storage]
filesystem_folder = {storage}

[web]
type = none

[logging]
level = info
"""


@contextlib.contextmanager
def radicale_server(
    tmp_path: Path, *, startup_timeout: float = STARTUP_TIMEOUT
) -> Iterator[CalDAVServer]:
    """Radicale with htpasswd (plain) auth, storage under ``tmp_path/radicale``.

    The calendar ``/<user>/calendar/`` is created with MKCALENDAR after startup.
    """
    root = (tmp_path / "radicale").resolve()
    root.mkdir(parents=True, exist_ok=True)
    users = root / "users"
    users.write_text(f"{RADICALE_USER}:{RADICALE_PASSWORD}\n", encoding="utf-8")
    config = root / "config"

    def argv(port: int) -> list[str]:
        config.write_text(
            _RADICALE_CONFIG.format(
                host=LOOPBACK, port=port, users=users, storage=root / "collections"
            ),
            encoding="utf-8",
        )
        return [sys.executable, "-m", "radicale", "--config", str(config)]

    with _server_process("radicale", argv, root, startup_timeout) as (port, proc, log_path):
        base = f"http://{LOOPBACK}:{port}/"
        principal = urljoin(base, f"/{RADICALE_USER}/")
        server = CalDAVServer(
            name="radicale",
            base_url=base,
            principal_url=principal,
            calendar_home_url=principal,
            calendar_url=urljoin(principal, "calendar/"),
            username=RADICALE_USER,
            password=RADICALE_PASSWORD,
            data_dir=root / "collections",
            log_path=log_path,
            pid=proc.pid,
        )
        resp = mkcalendar(server, server.calendar_url, "calbridge default")
        if resp.status != 201:
            raise ServerStartError(
                f"radicale: MKCALENDAR {server.calendar_url} -> {resp.status} {resp.reason}"
                f" {resp.body[:500]!r}\nlog:\n{server.log_text()}"
            )
        _check_calendar(server)
        yield server


@contextlib.contextmanager
def xandikos_server(
    tmp_path: Path, *, startup_timeout: float = STARTUP_TIMEOUT
) -> Iterator[CalDAVServer]:
    """Xandikos without auth, data under ``tmp_path/xandikos``; ``--defaults`` makes a calendar."""
    root = (tmp_path / "xandikos").resolve()
    root.mkdir(parents=True, exist_ok=True)
    data = root / "data"
    state = root / "state"

    def argv(port: int) -> list[str]:
        return [
            sys.executable,
            "-m",
            "xandikos",
            "serve",
            "--no-detect-systemd",
            "--listen-address",
            LOOPBACK,
            "--port",
            str(port),
            "--directory",
            str(data),
            "--current-user-principal",
            XANDIKOS_PRINCIPAL,
            "--defaults",
            "--state-dir",
            str(state),
        ]

    with _server_process("xandikos", argv, root, startup_timeout) as (port, proc, log_path):
        base = f"http://{LOOPBACK}:{port}/"
        principal = urljoin(base, XANDIKOS_PRINCIPAL)
        home = urljoin(principal, "calendars/")
        server = CalDAVServer(
            name="xandikos",
            base_url=base,
            principal_url=principal,
            calendar_home_url=home,
            calendar_url=urljoin(home, "calendar/"),
            username=None,
            password=None,
            data_dir=data,
            log_path=log_path,
            pid=proc.pid,
        )
        _check_calendar(server)
        yield server


SERVERS: Final[Mapping[str, Callable[[Path], contextlib.AbstractContextManager[CalDAVServer]]]] = {
    "radicale": radicale_server,
    "xandikos": xandikos_server,
}
SERVER_NAMES: Final = tuple(SERVERS)
