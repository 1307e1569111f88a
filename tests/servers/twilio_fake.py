"""A Twilio-like Messages API on loopback: a real aiohttp server in a thread.

Written from Twilio's documented shapes: ``POST /2010-04-01/Accounts/{AccountSid}/
Messages.json``, form-encoded (To, From or MessagingServiceSid, Body, StatusCallback),
HTTP basic auth (AccountSid, AuthToken); ``201`` with a JSON Message resource (``sid``
``SM`` + 32 hex, ``status`` ``queued``); errors as JSON ``{code, message, more_info,
status}``; ``429`` with ``Retry-After``. Accepted messages with a StatusCallback get
``sent`` then ``delivered`` posted to it, signed with ``X-Twilio-Signature`` (Base64
HMAC-SHA1 of the URL plus the sorted parameters, keyed with the auth token), as are
inbound messages ``inbound`` posts to a webhook. ``POST /gateway`` is a generic
gateway for calbridge's webhook transport (signed JSON, ``202 {"id"}``).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import aiohttp
from aiohttp import web
from yarl import URL

SID = "AC" + "0" * 31 + "1"
TOKEN = "fake-twilio-auth-token-0123456789"
E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def twilio_signature(token: str, url: str, params: dict[str, str]) -> str:
    """As Twilio's docs give it: URL, then each parameter name+value sorted by name."""
    data = url + "".join(f"{k}{params[k]}" for k in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


@dataclass
class Answer:
    """A scripted answer for the next request: ``status`` (429, 500, 503...; 201: the
    normal answer), after ``delay`` seconds (a client gone by then: not processed)."""

    status: int
    retry_after: str | None = None
    delay: float = 0.0


@dataclass
class FakeTwilio:
    port: int = 0
    latency: float = 0.0
    accepted: list[dict[str, str]] = field(default_factory=list)
    requests: int = 0
    script: list[Answer] = field(default_factory=list)
    callbacks: list[tuple[str, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    loop: asyncio.AbstractEventLoop | None = None
    pending: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def bodies(self) -> list[str]:
        with self.lock:
            return [m["Body"] for m in self.accepted]

    def to(self) -> list[str]:
        with self.lock:
            return [m["To"] for m in self.accepted]

    def later(self, job: Any) -> None:
        """Run ``job`` (a status callback) on the fake's loop, kept until it ends."""
        task = asyncio.get_running_loop().create_task(job)
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    def settle(self, timeout: float = 30) -> None:
        """Wait until every status callback posted so far has been answered, so the
        server they post to can be stopped without a connection half accepted."""

        async def done() -> None:
            while self.pending:
                await asyncio.wait(set(self.pending))

        assert self.loop is not None
        asyncio.run_coroutine_threadsafe(done(), self.loop).result(timeout)

    def then(self, *answers: Answer) -> None:
        with self.lock:
            self.script.extend(answers)

    def inbound(self, webhook: str, sender: str, body: str, token: str = TOKEN) -> int:
        """Post an inbound SMS to ``webhook`` as Twilio does; returns the HTTP status."""
        params = {
            "MessageSid": "SM" + uuid.uuid4().hex,
            "AccountSid": SID,
            "From": sender,
            "To": "+447911000000",
            "Body": body,
            "NumMedia": "0",
        }
        assert self.loop is not None
        future = asyncio.run_coroutine_threadsafe(_post(webhook, params, token), self.loop)
        return future.result(timeout=30)


async def _post(url: str, params: dict[str, str], token: str) -> int:
    headers = {"X-Twilio-Signature": twilio_signature(token, url, params)}
    async with (
        aiohttp.ClientSession() as http,
        http.post(URL(url, encoded=True), data=params, headers=headers) as answer,
    ):
        await answer.read()
        return answer.status


def _error(status: int, code: int, message: str, headers: dict[str, str] | None = None) -> Any:
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return web.json_response(body, status=status, headers=headers)


def _app(fake: FakeTwilio) -> web.Application:
    async def create(request: web.Request) -> web.StreamResponse:
        with fake.lock:
            fake.requests += 1
            scripted = fake.script.pop(0) if fake.script else None
        if fake.latency:
            await asyncio.sleep(fake.latency)
        if scripted is not None:
            await asyncio.sleep(scripted.delay)
            if request.transport is None or request.transport.is_closing():
                return web.Response(status=499)  # the client gave up: never processed
            if scripted.status == 429:
                extra = {"Retry-After": scripted.retry_after} if scripted.retry_after else {}
                return _error(429, 20429, "Too Many Requests", extra)
            if scripted.status >= 400:
                return _error(scripted.status, 20500, "Internal Server Error")
        auth = request.headers.get("Authorization", "")
        wanted = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
        if request.match_info["sid"] != SID or not hmac.compare_digest(auth, wanted):
            return _error(401, 20003, "Authenticate")
        form = {k: str(v) for k, v in (await request.post()).items()}
        to, body = form.get("To", ""), form.get("Body", "")
        sender = form.get("From") or form.get("MessagingServiceSid")
        if not to:
            return _error(400, 21604, "A 'To' phone number is required.")
        if not E164.match(to):
            return _error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if not sender:
            return _error(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required.")
        if not body:
            return _error(400, 21602, "Message body is required.")
        sid = "SM" + uuid.uuid4().hex
        with fake.lock:
            fake.accepted.append(form | {"sid": sid})
        now = format_datetime(datetime.now(UTC), usegmt=True)
        resource = {
            "account_sid": SID,
            "api_version": "2010-04-01",
            "body": body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued",
            "to": to,
            "uri": f"/2010-04-01/Accounts/{SID}/Messages/{sid}.json",
        }
        callback = form.get("StatusCallback")
        if callback:
            fake.later(_statuses(fake, callback, sid, form))
        return web.json_response(resource, status=201)

    async def gateway(request: web.Request) -> web.StreamResponse:
        """A generic gateway for the webhook transport: signed JSON in, ``{"id"}`` out."""
        with fake.lock:
            fake.requests += 1
            scripted = fake.script.pop(0) if fake.script else None
        if scripted is not None and scripted.status >= 400:
            extra = {"Retry-After": scripted.retry_after} if scripted.retry_after else {}
            return web.json_response({"error": "scripted"}, status=scripted.status, headers=extra)
        body = await request.read()
        wanted = "sha256=" + hmac.new(TOKEN.encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(request.headers.get("X-Calbridge-Signature", ""), wanted):
            return web.json_response({"error": "bad signature"}, status=401)
        sent = json.loads(body)
        ident = "gw-" + uuid.uuid4().hex
        with fake.lock:
            fake.accepted.append(
                {"To": sent["to"], "Body": sent["text"], "sid": ident, "Key": sent["id"]}
                | {"Idempotency-Key": request.headers.get("Idempotency-Key", "")}
            )
        if sent.get("status_url"):
            report = json.dumps({"id": ident, "status": "delivered"}).encode()
            fake.later(_post_json(fake, sent["status_url"], report))
        return web.json_response({"id": ident}, status=202)

    app = web.Application()
    app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", create)
    app.router.add_post("/gateway", gateway)
    return app


def signed_json(payload: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    digest = hmac.new(TOKEN.encode(), body, hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/json", "X-Calbridge-Signature": f"sha256={digest}"}


async def _post_json(fake: FakeTwilio, url: str, body: bytes) -> None:
    payload = json.loads(body)
    data, headers = signed_json(payload)
    target = URL(url, encoded=True)  # exactly the URL given, as a provider calls it
    async with aiohttp.ClientSession() as http, http.post(target, data=data, headers=headers) as a:
        await a.read()
        with fake.lock:
            fake.callbacks.append((payload["status"], a.status))


async def _statuses(fake: FakeTwilio, url: str, sid: str, form: dict[str, str]) -> None:
    for status in ("sent", "delivered"):
        params = {
            "AccountSid": SID,
            "MessageSid": sid,
            "SmsSid": sid,
            "MessageStatus": status,
            "SmsStatus": status,
            "To": form["To"],
            "From": form.get("From", ""),
            "ApiVersion": "2010-04-01",
        }
        try:
            code = await _post(url, params, TOKEN)
        except aiohttp.ClientError:
            code = -1
        with fake.lock:
            fake.callbacks.append((status, code))


@contextmanager
def fake_twilio(latency: float = 0.0) -> Iterator[FakeTwilio]:
    """A FakeTwilio serving on a free loopback port for the ``with`` block."""
    fake = FakeTwilio(latency=latency)
    ready = threading.Event()
    stop: list[asyncio.Event] = []

    async def main() -> None:
        runner = web.AppRunner(_app(fake), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        fake.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        fake.loop = asyncio.get_running_loop()
        stop.append(asyncio.Event())
        ready.set()
        await stop[0].wait()
        if fake.pending:
            await asyncio.wait(set(fake.pending), timeout=10)
        await runner.cleanup()
        await asyncio.sleep(0.1)  # closed connections' callbacks run before the loop ends

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(30), "the fake Twilio did not start"
    try:
        yield fake
    finally:
        assert fake.loop is not None
        fake.loop.call_soon_threadsafe(stop[0].set)
        thread.join(30)


def main() -> None:
    """``python twilio_fake.py LATENCY``: serve until stdin closes; prints the port."""
    import sys

    with fake_twilio(latency=float(sys.argv[1]) if len(sys.argv) > 1 else 0.0) as fake:
        print(fake.port, flush=True)
        sys.stdin.read()
        print(len(fake.accepted), flush=True)


if __name__ == "__main__":
    main()
