"""Loopback HTTP fakes (real sockets on 127.0.0.1, never mocks).

``FakeCalDAV`` is a small calendar server whose deviations are switches: no sync-collection
report, no getctag, PUT answers without ETag, sync answers without getetag or cut into pages
(507), bearer tokens required, canned answers (429, 503, ...) served before anything else.
It records every request. ``FakeTokenEndpoint`` issues OAuth2 access tokens for a refresh
token (RFC 6749 §6). Both are context managers that stop their thread on exit.
"""

from __future__ import annotations

import itertools
import json
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl, quote, unquote, urlsplit
from xml.sax.saxutils import escape

Answer = tuple[int, dict[str, str], bytes]
D, C = "DAV:", "urn:ietf:params:xml:ns:caldav"
XML_TYPE = {"Content-Type": "application/xml; charset=utf-8"}
NS = 'xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:CS="http://calendarserver.org/ns/"'


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms stalls
    server: _Server

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        status, extra, payload = self.server.owner.answer(self.command, self.path, headers, body)
        self.send_response(status)
        for name, value in extra.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_HEAD = do_PUT = do_DELETE = do_POST = do_PROPFIND = do_REPORT = _serve

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, owner: LoopbackServer) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.owner = owner

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client hanging up mid-request is not the test's business


class LoopbackServer:
    """Answers requests with :meth:`answer` on a free loopback port, in a thread."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self._httpd = _Server(self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        self.seen.append(Seen(method, path, headers, body))
        return self.handle(method, path, headers, body)

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        raise NotImplementedError

    def methods(self) -> list[str]:
        return [seen.method for seen in self.seen]


def _multistatus(responses: list[str], extra: str = "") -> Answer:
    body = f'<?xml version="1.0" encoding="utf-8"?><D:multistatus {NS}>{"".join(responses)}{extra}'
    return 207, dict(XML_TYPE), (body + "</D:multistatus>").encode()


def _response(href: str, props: str = "", status: int = 200) -> str:
    if status != 200:
        line = f"<D:status>HTTP/1.1 {status} X</D:status>"
        return f"<D:response><D:href>{escape(href)}</D:href>{line}</D:response>"
    return (
        f"<D:response><D:href>{escape(href)}</D:href><D:propstat><D:prop>{props}</D:prop>"
        "<D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>"
    )


def _error(status: int, condition: str) -> Answer:
    body = f'<?xml version="1.0"?><D:error {NS}><{condition}/></D:error>'
    return status, dict(XML_TYPE), body.encode()


@dataclass
class _Member:
    etag: str
    data: bytes


@dataclass
class FakeCalDAV(LoopbackServer):
    """A calendar at ``/cal/``; see the module docstring for the switches."""

    sync: bool = True
    no_sync_answer: Answer = field(default_factory=lambda: _error(403, "D:supported-report"))
    ctag: bool = True
    put_etag: bool = True
    sync_etags: bool = True
    sync_page: int | None = None
    bare_getetag: bool = False
    bearer: set[str] | None = None
    script: list[Answer] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__()
        self.members: dict[str, _Member] = {}
        self.version = 0
        self.log: list[tuple[int, str]] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return self.base_url + "/cal/"

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        with self._lock:
            if self.script:
                return self.script.pop(0)
            if (
                self.bearer is not None
                and headers.get("authorization", "").removeprefix("Bearer ") not in self.bearer
            ):
                return 401, {"WWW-Authenticate": 'Bearer realm="fake"'}, b""
            return self._route(method, unquote(urlsplit(path).path), headers, body)

    def put_member(self, name: str, data: bytes) -> str:
        """Write behind the client's back (as another calendar app would); returns the etag."""
        with self._lock:
            return self._store(name, data)

    def _route(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        if path.rstrip("/") == "/.well-known/caldav":
            return 301, {"Location": "/cal/"}, b""
        if path != "/cal/" and not path.startswith("/cal/"):
            return 404, {}, b""
        name = path.removeprefix("/cal/")
        if method == "PROPFIND":
            return self._propfind(name, headers.get("depth", "0"))
        if method == "REPORT":
            return self._report(body)
        if method in ("GET", "HEAD"):
            member = self.members.get(name)
            if member is None:
                return 404, {}, b""
            return 200, {"ETag": member.etag, "Content-Type": "text/calendar"}, member.data
        if method == "PUT":
            return self._put(name, headers, body)
        if method == "DELETE":
            return self._delete(name, headers)
        return 405, {}, b""

    def _href(self, name: str) -> str:
        return "/cal/" + quote(name)

    def _store(self, name: str, data: bytes) -> str:
        self.version += 1
        self.log.append((self.version, name))
        etag = f'"e{self.version}"'
        self.members[name] = _Member(etag, data)
        return etag

    def _put(self, name: str, headers: dict[str, str], body: bytes) -> Answer:
        member = self.members.get(name)
        if headers.get("if-none-match") == "*" and member is not None:
            return 412, {}, b""
        if "if-match" in headers and (member is None or member.etag != headers["if-match"]):
            return 412, {}, b""
        etag = self._store(name, body)
        return (201 if member is None else 204), ({"ETag": etag} if self.put_etag else {}), b""

    def _delete(self, name: str, headers: dict[str, str]) -> Answer:
        member = self.members.get(name)
        if member is None:
            return 404, {}, b""
        if "if-match" in headers and member.etag != headers["if-match"]:
            return 412, {}, b""
        del self.members[name]
        self.version += 1
        self.log.append((self.version, name))
        return 204, {}, b""

    def _propfind(self, name: str, depth: str) -> Answer:
        if name:
            member = self.members.get(name)
            if member is None:
                return 404, {}, b""
            return _multistatus([_response(self._href(name), self._etag_prop(member))])
        stamp = f"<CS:getctag>c{self.version}</CS:getctag>" if self.ctag else ""
        own = _response(
            "/cal/", f"<D:resourcetype><D:collection/><C:calendar/></D:resourcetype>{stamp}"
        )
        members = [_response(self._href(n), self._etag_prop(m)) for n, m in self.members.items()]
        return _multistatus([own, *(members if depth == "1" else [])])

    def _getetag(self, member: _Member) -> str:
        etag = member.etag.strip('"') if self.bare_getetag else member.etag
        return f"<D:getetag>{escape(etag)}</D:getetag>"

    def _etag_prop(self, member: _Member) -> str:
        return f"{self._getetag(member)}<D:resourcetype/>"

    def _report(self, body: bytes) -> Answer:
        root = ET.fromstring(body)
        if root.tag == f"{{{D}}}sync-collection":
            return (
                self._sync(root.findtext(f"{{{D}}}sync-token") or "")
                if self.sync
                else self.no_sync_answer
            )
        if root.tag == f"{{{C}}}calendar-multiget":
            return self._multiget([h.text or "" for h in root.iter(f"{{{D}}}href")])
        return 501, {}, b""

    def _sync(self, token: str) -> Answer:
        since = token.removeprefix("fake-sync-")
        if token and (not since.isdigit() or int(since) > self.version):
            return _error(403, "D:valid-sync-token")
        latest = {name: version for version, name in self.log if version > int(since or 0)}
        names = sorted(latest, key=latest.__getitem__)
        if not token:
            names = sorted(self.members, key=lambda n: latest.get(n, 0))
        page = names[: self.sync_page] if self.sync_page else names
        truncated = len(page) < len(names)
        upto = max((latest.get(n, self.version) for n in page), default=self.version)
        upto = upto if truncated else self.version
        responses = [self._sync_response(name) for name in page]
        if truncated:
            responses.append(_response("/cal/", status=507))
        return _multistatus(responses, f"<D:sync-token>fake-sync-{upto}</D:sync-token>")

    def _sync_response(self, name: str) -> str:
        member = self.members.get(name)
        if member is None:
            return _response(self._href(name), status=404)
        etag = self._getetag(member) if self.sync_etags else ""
        return _response(self._href(name), etag)

    def _multiget(self, hrefs: list[str]) -> Answer:
        responses = []
        for href in hrefs:
            name = unquote(href).removeprefix("/cal/")
            member = self.members.get(name)
            if member is None:
                responses.append(_response(href, status=404))
                continue
            data = escape(member.data.decode())
            props = f"{self._getetag(member)}<C:calendar-data>{data}</C:calendar-data>"
            responses.append(_response(href, props))
        return _multistatus(responses)


@dataclass
class FakeTokenEndpoint(LoopbackServer):
    """``POST /token`` with grant_type=refresh_token issues ``at-1``, ``at-2``, ..."""

    client_id: str = "calbridge"
    client_secret: str = "client-secret"
    refresh_token: str = "refresh-1"
    expires_in: int = 3600
    rotate: bool = False
    down: bool = False
    on_issue: Callable[[str], None] | None = None
    issued: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__()
        self._numbers = itertools.count(1)

    @property
    def url(self) -> str:
        return self.base_url + "/token"

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        if self.down:
            return 503, {}, b""
        form = dict(parse_qsl(body.decode()))
        if (form.get("client_id"), form.get("client_secret")) != (
            self.client_id,
            self.client_secret,
        ):
            return self._json(401, {"error": "invalid_client"})
        if (
            form.get("grant_type") != "refresh_token"
            or form.get("refresh_token") != self.refresh_token
        ):
            return self._json(400, {"error": "invalid_grant"})
        number = next(self._numbers)
        token = f"at-{number}"
        self.issued.append(token)
        if self.on_issue is not None:
            self.on_issue(token)
        answer: dict[str, object] = {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
        }
        if self.rotate:
            self.refresh_token = f"refresh-{number + 1}"
            answer["refresh_token"] = self.refresh_token
        return self._json(200, answer)

    def _json(self, status: int, payload: dict[str, object]) -> Answer:
        return status, {"Content-Type": "application/json"}, json.dumps(payload).encode()
