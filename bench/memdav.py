"""A light CalDAV server answering from memory, for benches where the server must not be the
bottleneck (issue 14 "Scale": 10,000 calendars; Radicale stats and parses files per request).

Collections are created and filled in process (``MemDav.put``); over HTTP/1.1 (keep-alive,
loopback, any credentials) it answers what calbridge sends a calendar: sync-collection
REPORT (RFC 6578, Depth 0: the changes since a token, everything without one, 403
DAV:valid-sync-token for a token it never gave), calendar-multiget REPORT, PROPFIND
(getctag, sync-token, getetag, resourcetype), GET, PUT with If-None-Match / If-Match, and
DELETE, and MKCALENDAR. Not a CalDAV server for anything else: no discovery, no UID
checks, no queries.

Run as a process (``python bench/memdav.py --port N``) so that its CPU is not counted as the
client's: sync_bench.py --server memdav does.
"""

from __future__ import annotations

import argparse
import re
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, unquote, urlsplit
from xml.sax.saxutils import escape

TOKEN_PREFIX = "http://memdav.invalid/sync/"
_HEAD = (
    '<?xml version="1.0" encoding="utf-8"?>\n<D:multistatus xmlns:D="DAV:"'
    ' xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:CS="http://calendarserver.org/ns/">'
)
_GONE = "<D:response><D:href>{}</D:href><D:status>HTTP/1.1 404 Not Found</D:status></D:response>"
_BAD_TOKEN = b'<?xml version="1.0"?><D:error xmlns:D="DAV:"><D:valid-sync-token/></D:error>'
_OK = "HTTP/1.1 200 OK"
_TOKEN = re.compile(r"sync-token[^>]*>([^<]*)<")


@dataclass
class Collection:
    members: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # name -> etag, data
    changed_at: dict[str, int] = field(default_factory=dict)  # name -> token of its change
    gone_at: dict[str, int] = field(default_factory=dict)
    token: int = 1
    etags: int = 0

    def write(self, name: str, data: bytes) -> str:
        self.token += 1
        self.etags += 1
        etag = f'"{self.etags}-{len(data)}"'
        self.members[name] = (etag, data)
        self.changed_at[name] = self.token
        self.gone_at.pop(name, None)
        return etag

    def remove(self, name: str) -> None:
        self.token += 1
        self.members.pop(name, None)
        self.changed_at.pop(name, None)
        self.gone_at[name] = self.token


class MemDav:
    """``with MemDav() as dav``: serving on 127.0.0.1:``dav.port`` from a thread."""

    def __init__(self, port: int = 0) -> None:
        self.collections: dict[str, Collection] = {}
        self.lock = threading.Lock()
        self.requests = 0
        dav = self

        class Handler(_Handler):
            server_dav = dav

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> MemDav:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self, name: str) -> str:
        path = f"/cal/{name}/"
        self.collections.setdefault(path, Collection())
        return f"http://127.0.0.1:{self.port}{path}"

    def put(self, url: str, name: str, data: bytes) -> tuple[str, str]:
        """Store a member; its href and etag."""
        path = urlsplit(url).path
        etag = self.collections[path].write(name, data)
        return path + quote(name), etag

    def token(self, url: str) -> str:
        return f"{TOKEN_PREFIX}{self.collections[urlsplit(url).path].token}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_dav: MemDav

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _reply(
        self, code: int, body: bytes = b"", kind: str = "application/xml", **headers: str
    ) -> None:
        self.send_response(code)
        self.send_header("Content-Type", f"{kind}; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for key, value in headers.items():
            self.send_header(key.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def _where(self) -> tuple[Collection | None, str]:
        """The collection asked for, and the member's literal name ("" for the collection)."""
        folder, _, name = urlsplit(self.path).path.rpartition("/")
        return self.server_dav.collections.get(folder + "/"), unquote(name)

    def _collection_path(self) -> str:
        path = urlsplit(self.path).path
        return path if path.endswith("/") else path.rpartition("/")[0] + "/"

    def do_REPORT(self) -> None:
        body = self._body()
        coll, _ = self._where()
        if coll is None:
            self._reply(404)
            return
        base = self._collection_path()
        with self.server_dav.lock:
            self.server_dav.requests += 1
            if b"sync-collection" in body[:400]:
                self._sync(coll, base, body)
                return
            self._multiget(coll, base, body)
            return

    def _sync(self, coll: Collection, base: str, body: bytes) -> None:
        match = _TOKEN.search(body.decode("utf-8", "replace"))
        given = (match.group(1).strip() if match else "") or None
        since = 0
        if given is not None:
            number = given[len(TOKEN_PREFIX) :] if given.startswith(TOKEN_PREFIX) else ""
            if not number.isdigit() or int(number) > coll.token:
                error = (
                    b'<?xml version="1.0"?><D:error xmlns:D="DAV:"><D:valid-sync-token/></D:error>'
                )
                self._reply(403, error)
                return
            since = int(number)
        parts = [_HEAD]
        for name, at in coll.changed_at.items():
            if at > since:
                etag = coll.members[name][0]
                parts.append(
                    _propstat(base + quote(name), f"<D:getetag>{escape(etag)}</D:getetag>")
                )
        if since:
            for name, at in coll.gone_at.items():
                if at > since:
                    parts.append(_GONE.format(escape(base + quote(name))))
        parts.append(f"<D:sync-token>{TOKEN_PREFIX}{coll.token}</D:sync-token></D:multistatus>")
        self._reply(207, "".join(parts).encode("utf-8"))

    def _multiget(self, coll: Collection, base: str, body: bytes) -> None:
        parts = [_HEAD]
        for element in ET.fromstring(body).iter("{DAV:}href"):
            href = (element.text or "").strip()
            found = coll.members.get(unquote(href.rpartition("/")[2]))
            if found is None:
                parts.append(_GONE.format(escape(href)))
                continue
            etag, data = found
            text = escape(data.decode("utf-8"))
            props = f"{_etag(etag)}<C:calendar-data>{text}</C:calendar-data>"
            parts.append(_propstat(href, props))
        parts.append("</D:multistatus>")
        self._reply(207, "".join(parts).encode("utf-8"))

    def do_PROPFIND(self) -> None:
        self._body()
        coll, name = self._where()
        if coll is None:
            self._reply(404)
            return
        base = self._collection_path()
        with self.server_dav.lock:
            self.server_dav.requests += 1
            parts = [_HEAD]
            token = f"{TOKEN_PREFIX}{coll.token}"
            if not name:
                kind = "<D:resourcetype><D:collection/><C:calendar/></D:resourcetype>"
                props = (
                    f"{kind}<CS:getctag>{token}</CS:getctag><D:sync-token>{token}</D:sync-token>"
                )
                parts.append(_propstat(base, props))
            depth = self.headers.get("Depth", "0")
            names = [name] if name else (list(coll.members) if depth == "1" else [])
            for member in names:
                if member in coll.members:
                    etag = coll.members[member][0]
                    parts.append(
                        _propstat(
                            base + quote(member),
                            f"<D:getetag>{escape(etag)}</D:getetag><D:resourcetype/>",
                        )
                    )
            parts.append("</D:multistatus>")
        self._reply(207, "".join(parts).encode("utf-8"))

    def do_MKCALENDAR(self) -> None:
        self._body()
        path = urlsplit(self.path).path
        with self.server_dav.lock:
            if not path.endswith("/") or path in self.server_dav.collections:
                self._reply(405)
                return
            self.server_dav.collections[path] = Collection()
        self._reply(201)

    def do_GET(self) -> None:
        coll, name = self._where()
        found = coll.members.get(name) if coll is not None else None
        if found is None:
            self._reply(404)
            return
        self._reply(200, found[1], "text/calendar", ETag=found[0])

    def do_PUT(self) -> None:
        data = self._body()
        coll, name = self._where()
        if coll is None or not name:
            self._reply(409)
            return
        with self.server_dav.lock:
            self.server_dav.requests += 1
            have = coll.members.get(name)
            if self.headers.get("If-None-Match") == "*" and have is not None:
                self._reply(412)
                return
            match = self.headers.get("If-Match")
            if match is not None and (have is None or have[0] != match):
                self._reply(412)
                return
            etag = coll.write(name, data)
        self._reply(204 if have else 201, ETag=etag)

    def do_DELETE(self) -> None:
        coll, name = self._where()
        with self.server_dav.lock:
            self.server_dav.requests += 1
            have = coll.members.get(name) if coll is not None else None
            match = self.headers.get("If-Match")
            if coll is None or have is None:
                self._reply(404)
                return
            if match is not None and have[0] != match:
                self._reply(412)
                return
            coll.remove(name)
        self._reply(204)


def _etag(etag: str) -> str:
    return f"<D:getetag>{escape(etag)}</D:getetag>"


def _propstat(href: str, props: str) -> str:
    found = f"<D:propstat><D:prop>{props}</D:prop><D:status>{_OK}</D:status></D:propstat>"
    return f"<D:response><D:href>{escape(href)}</D:href>{found}</D:response>"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=0)
    port = parser.parse_args().port
    with MemDav(port) as dav:
        print(f"memdav on 127.0.0.1:{dav.port}", flush=True)
        dav.thread.join()


if __name__ == "__main__":
    main()
