"""The HTTP wire under the CalDAV store, against real loopback servers (http.server)."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from calbridge.calendars.davwire import Wire, WireError
from servers.threaded import serving
from servers.tls import self_signed


class Recorder(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.connections = 0
        self.seen: list[tuple[str, str, dict[str, str]]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class KeepAlive(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # connections stay open between requests

    def setup(self) -> None:
        super().setup()
        self.server.connections += 1  # type: ignore[attr-defined]

    def do_REPORT(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.seen.append((self.command, self.path, dict(self.headers)))  # type: ignore[attr-defined]
        answer = b"<echo>" + body + b"</echo>"
        self.send_response(207, "Multi-Status")
        self.send_header("Content-Length", str(len(answer)))
        self.send_header("DAV", "1")
        self.send_header("DAV", "calendar-access")
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_REPORT

    def log_message(self, *args: object) -> None:
        pass


class ClosesAfterEach(KeepAlive):
    """Keeps the connection open after answering, then drops it without a word (what a
    server does when its keep-alive timeout passes), so the client's next request meets a
    closed connection."""

    def handle(self) -> None:
        self.handle_one_request()


@pytest.fixture
def served(request: pytest.FixtureRequest) -> Iterator[Recorder]:
    with serving(Recorder(getattr(request, "param", KeepAlive))) as server:
        yield server


def test_one_connection_serves_many_requests(served: Recorder) -> None:
    wire = Wire(timeout=5)
    for k in range(5):
        reply = wire.request("REPORT", f"{served.url}/cal/?k={k}", f"<q{k}/>".encode(), {})
        assert (reply.status, reply.reason, reply.body) == (
            207,
            "Multi-Status",
            f"<echo><q{k}/></echo>".encode(),
        )
    wire.close()
    assert served.connections == 1
    assert [path for _, path, _ in served.seen] == [f"/cal/?k={k}" for k in range(5)]


def test_repeated_headers_are_joined_and_names_lower_cased(served: Recorder) -> None:
    wire = Wire(timeout=5)
    reply = wire.request("GET", served.url + "/", b"", {"Depth": "1"})
    wire.close()
    assert reply.header("DAV") == "1, calendar-access"
    assert served.seen[0][2]["Depth"] == "1"


@pytest.mark.parametrize("served", [ClosesAfterEach], indirect=True)
def test_a_connection_the_server_closed_while_idle_is_replaced(served: Recorder) -> None:
    wire = Wire(timeout=5)
    bodies = [wire.request("REPORT", served.url + "/", f"{k}".encode(), {}).body for k in range(3)]
    wire.close()
    assert bodies == [b"<echo>0</echo>", b"<echo>1</echo>", b"<echo>2</echo>"]
    assert served.connections == 3


def test_a_refused_connection_is_a_wire_error() -> None:
    probe = Recorder(KeepAlive)
    url = probe.url
    probe.server_close()  # nothing listens there any more
    with pytest.raises(WireError, match="ConnectionRefused"):
        Wire(timeout=5).request("GET", url + "/", b"", {})


def test_plain_http_goes_through_the_environments_proxy(
    served: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = Recorder(KeepAlive)  # records the absolute URI a proxy is sent
    with serving(proxy):
        host = f"user:p%40ss@127.0.0.1:{proxy.server_address[1]}"
        monkeypatch.setenv("http_proxy", f"http://{host}")
        monkeypatch.setenv("no_proxy", "")
        wire = Wire(timeout=5)
        reply = wire.request("GET", "http://calendar.invalid/cal/", b"", {})
        wire.close()
    assert reply.status == 207
    method, target, headers = proxy.seen[0]
    assert (method, target) == ("GET", "http://calendar.invalid/cal/")
    assert headers["Proxy-Authorization"] == "Basic dXNlcjpwQHNz"  # user:p@ss
    assert not served.seen  # the proxy answered; the server was never asked directly


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed(tmp_path_factory.mktemp("tls"))


def test_https_is_checked_against_the_configured_authority(
    certificate: tuple[Path, Path],
) -> None:
    cert, key = certificate
    server = Recorder(KeepAlive)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    url = f"https://127.0.0.1:{server.server_address[1]}/cal/"
    with serving(server):
        trusting, default = Wire(timeout=5, verify=str(cert)), Wire(timeout=5)
        assert trusting.request("REPORT", url, b"<q/>", {}).body == b"<echo><q/></echo>"
        with pytest.raises(WireError, match="CERTIFICATE_VERIFY_FAILED"):
            default.request("REPORT", url, b"<q/>", {})  # not in the system's store
        trusting.close()
        default.close()
