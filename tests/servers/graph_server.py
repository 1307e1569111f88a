"""A fake Microsoft Graph (v1.0) on loopback: an aiohttp server in a thread.

Each behaviour follows a page of Microsoft's documentation:

- calendarView delta (learn.microsoft.com/graph/api/event-delta, /graph/delta-query-events):
  the first request names ``startDateTime``/``endDateTime``; pages end in ``@odata.nextLink``
  (``$skiptoken``) and the round in ``@odata.deltaLink`` (``$deltatoken``); later rounds
  carry only changes, removals as ``{"id", "@removed": {"reason": "deleted"}}``; series show
  as their occurrences and exceptions (``seriesMasterId``), never the master; page size from
  ``Prefer: odata.maxpagesize``. A token the mailbox forgot answers ``410 Gone``
  (/graph/delta-query-overview, "Synchronization reset": code ``SyncStateNotFound``).
- create (/graph/api/calendar-post-events): 201 and the event; ``transactionId`` makes a
  repeated POST give the first event back (/graph/api/resources/event, transactionId).
- get, update, delete (/graph/api/event-get, event-update, event-delete): ``If-Match``
  with the ``@odata.etag`` (W/"changeKey"); a stale one is ``412`` (ErrorIrresolvableConflict),
  an unknown id ``404`` (ErrorItemNotFound), a malformed one ``400`` (ErrorInvalidIdMalformed).
- single-value extended properties (/graph/api/singlevaluelegacyextendedproperty-get):
  ``$expand=singleValueExtendedProperties($filter=id eq '…')`` and
  ``$filter=singleValueExtendedProperties/any(ep: ep/id eq '…' and ep/value eq '…')``.
- instances (/graph/api/event-list-instances): a series' occurrences and exceptions in a
  window, each with ``originalStart``, ``type`` and ``seriesMasterId``.
- the master category list (/graph/api/outlookuser-list-mastercategories,
  outlookuser-post-mastercategories): names unique (a second one is 409), colour preset0..24.
- throttling (/graph/throttling): ``429`` with ``Retry-After`` (and 503/504) on demand.
- auth: a bearer token from the fake token endpoint (graph_auth_server.py) when ``tokens``
  is set; ``401`` InvalidAuthenticationToken otherwise.

- free/busy (/graph/api/calendar-getschedule): ``POST …/calendar/getSchedule``, written
  up in graph_schedule.py.
- a series made single again (/graph/api/event-update; the SDKs' "set recurrence to null"):
  a PATCH with ``"recurrence": null`` leaves one event, its exceptions gone.

- JSON batching (/graph/json-batching): ``POST /$batch`` with up to 20 requests, each
  answered (status, body) as if sent alone, throttling included.

Left out: change notifications, dependsOn in batches, time zones other than UTC in answers
(``Prefer: outlook.timezone`` is taken as UTC), attachments, online meetings,
relativeMonthly and yearly patterns in the expansion.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import ssl
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, web

from servers.graph_schedule import get_schedule
from servers.graph_state import Mailbox, graph_time, parse_time, split_id

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_EXPAND = re.compile(r"id eq '([^']*)'")
_ANY = re.compile(r"ep/id eq '([^']*)' and ep/value eq '((?:[^']|'')*)'")


def error(status: int, code: str, message: str, **headers: str) -> web.Response:
    body = {"error": {"code": code, "message": message}}
    return web.json_response(body, status=status, headers=headers)


@dataclass
class FakeGraph:
    """The server's state: the mailbox, and the knobs tests turn."""

    mailbox: Mailbox = field(default_factory=Mailbox)
    tokens: set[str] = field(default_factory=set)  # empty: no auth checked
    throttle: list[tuple[int, str | None]] = field(default_factory=list)  # (status, Retry-After)
    throttle_skip: int = 0  # requests let through before the throttling starts
    page_size: int = 10
    latency: float = 0.0  # seconds each answer waits (a network round trip; benches)
    lose_replies: int = 0  # the next writes are done, then answered 504 (reply lost)
    requests: list[str] = field(default_factory=list)
    rounds: dict[str, tuple[list[dict[str, Any]], str]] = field(default_factory=dict)
    categories: dict[str, str] = field(default_factory=dict)  # displayName -> preset
    #: getSchedule: SMTP address (lower case) -> the calendar id that is its default one
    schedules: dict[str, str] = field(default_factory=dict)
    url: str = ""
    secure_url: str = ""  # https://127.0.0.1:PORT when served with a certificate

    def calendar_url(self, calendar: str = "cal1") -> str:
        return f"{self.url}/v1.0/me/calendars/{calendar}"

    # -- middleware -------------------------------------------------------------------------

    @web.middleware
    async def gate(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.requests.append(f"{request.method} {request.path}")
        if self.latency:
            await asyncio.sleep(self.latency)
        if self.throttle and self.throttle_skip:
            self.throttle_skip -= 1
        elif self.throttle:
            status, after = self.throttle.pop(0)
            headers = {"Retry-After": after} if after else {}
            return error(status, "TooManyRequests" if status == 429 else "ServiceUnavailable",
                         "throttled", **headers)  # fmt: skip
        if self.tokens and request.path.startswith("/v1.0/"):
            auth = request.headers.get("Authorization", "")
            if not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
                return error(401, "InvalidAuthenticationToken", "Access token is empty.")
        with self.mailbox.lock:
            reply = await handler(request)
        if self.lose_replies and request.method in ("POST", "PATCH", "DELETE"):
            self.lose_replies -= 1
            return error(504, "GatewayTimeout", "the reply was lost")
        return reply

    # -- delta ------------------------------------------------------------------------------

    async def delta(self, request: web.Request) -> web.Response:
        calendar, query = request.match_info["cal"], request.query
        size = _page_size(request.headers.get("Prefer", ""), self.page_size)
        if "$skiptoken" in query:
            rows, link = self.rounds.pop(query["$skiptoken"], (None, ""))
            if rows is None:
                return error(410, "SyncStateNotFound", "skip token unknown")
            return self._page(request, calendar, rows, link, size)
        if "$deltatoken" in query:
            state = _decode(query["$deltatoken"])
            if state is None or state["seq"] < self.mailbox.horizon:
                return error(410, "SyncStateNotFound", "The sync state was not found.")
            lo, hi = _window(state["lo"], state["hi"])
            rows = self._changes(calendar, state["seq"], lo, hi)
        else:
            if "startDateTime" not in query or "endDateTime" not in query:
                return error(400, "ErrorInvalidParameter", "startDateTime and endDateTime")
            state = {"lo": query["startDateTime"], "hi": query["endDateTime"]}
            lo, hi = _window(state["lo"], state["hi"])
            rows = [
                r
                for e in self.mailbox.events.values()
                if e["calendarId"] == calendar
                for r in self.mailbox.rows(e, lo, hi)
            ]
        token = _encode({**state, "seq": self.mailbox.seq})
        link = f"{self.calendar_url(calendar)}/calendarView/delta?$deltatoken={token}"
        return self._page(request, calendar, rows, link, size)

    def _page(
        self, request: web.Request, calendar: str, rows: list[dict[str, Any]], link: str, size: int
    ) -> web.Response:
        page, rest = rows[:size], rows[size:]
        body: dict[str, Any] = {"value": [_public(r) for r in page]}
        if rest:
            skip = f"s{len(self.rounds)}x{id(rest)}"
            self.rounds[skip] = (rest, link)
            body["@odata.nextLink"] = (
                f"{self.calendar_url(calendar)}/calendarView/delta?$skiptoken={skip}"
            )
        else:
            body["@odata.deltaLink"] = link
        return web.json_response(body)

    def _changes(
        self, calendar: str, since: int, lo: datetime, hi: datetime
    ) -> list[dict[str, Any]]:
        touched = dict.fromkeys(eid for seq, eid in self.mailbox.log if seq > since)
        rows: list[dict[str, Any]] = []
        for eid in touched:
            event = self.mailbox.events.get(eid)
            if event is None:
                rows.append({"id": eid, "@removed": {"reason": "deleted"}})
            elif event["calendarId"] == calendar:
                rows.extend(self.mailbox.rows(event, lo, hi))
                for key in event["cancelled"]:
                    rows.append({"id": f"{eid}_{key}", "@removed": {"reason": "deleted"}})
        return rows

    # -- events -----------------------------------------------------------------------------

    async def create(self, request: web.Request) -> web.Response:
        body = await request.json()
        event, _ = self.mailbox.create(request.match_info["cal"], body)
        return web.json_response(_public(event), status=201)

    def _find(self, eid: str) -> web.Response | None:
        if not re.fullmatch(r"AAMkAG-\d{8}x=(_\d{8}T\d{6}Z)?", eid):
            return error(400, "ErrorInvalidIdMalformed", "Id is malformed.")
        if not self.mailbox.exists(eid):
            return error(404, "ErrorItemNotFound", "The specified object was not found.")
        return None

    def _stale(self, request: web.Request, eid: str) -> web.Response | None:
        wanted = request.headers.get("If-Match")
        current = self.mailbox.get(split_id(eid)[0])["@odata.etag"]
        if wanted and wanted != current and wanted != "*":
            return error(412, "ErrorIrresolvableConflict", "The change key is stale.")
        return None

    async def get(self, request: web.Request) -> web.Response:
        eid = request.match_info["id"]
        missing = self._find(eid)
        if missing:
            return missing
        return web.json_response(_public(self.mailbox.get(eid), request.query.get("$expand")))

    async def patch(self, request: web.Request) -> web.Response:
        eid = request.match_info["id"]
        refused = self._find(eid) or self._stale(request, eid)
        if refused:
            return refused
        event = self.mailbox.update(eid, await request.json())
        return web.json_response(_public(event))

    async def delete(self, request: web.Request) -> web.Response:
        eid = request.match_info["id"]
        refused = self._find(eid) or self._stale(request, eid)
        if refused:
            return refused
        self.mailbox.delete(eid)
        return web.Response(status=204)

    async def list_events(self, request: web.Request) -> web.Response:
        wanted = _ANY.findall(request.query.get("$filter", ""))
        found = [
            e
            for e in self.mailbox.events.values()
            if e["calendarId"] == request.match_info["cal"]
            and all(
                {"id": pid, "value": value.replace("''", "'")}
                in [
                    {"id": p["id"], "value": p["value"]} for p in e["singleValueExtendedProperties"]
                ]
                for pid, value in wanted
            )
        ]
        expand = request.query.get("$expand")
        return web.json_response({"value": [_public(e, expand) for e in found]})

    async def instances(self, request: web.Request) -> web.Response:
        eid = request.match_info["id"]
        missing = self._find(eid)
        if missing:
            return missing
        lo, hi = _window(request.query["startDateTime"], request.query["endDateTime"])
        rows = self.mailbox.rows(self.mailbox.get(eid), lo, hi)
        return web.json_response({"value": [_public(r) for r in rows]})

    async def list_categories(self, request: web.Request) -> web.Response:
        found = [{"id": f"c{i}", "displayName": name, "color": color}
                 for i, (name, color) in enumerate(self.categories.items())]  # fmt: skip
        return web.json_response({"value": found})

    async def add_category(self, request: web.Request) -> web.Response:
        body = await request.json()
        name = str(body.get("displayName", ""))
        if name in self.categories:
            return error(409, "ErrorItemAlreadyExists", "The category already exists.")
        self.categories[name] = str(body.get("color", "none"))
        return web.json_response({"displayName": name, "color": self.categories[name]}, status=201)

    async def batch(self, request: web.Request) -> web.Response:
        """JSON batching: up to 20 requests, each answered as if sent alone."""
        body = await request.json()
        wanted = body.get("requests", [])
        if len(wanted) > 20:
            return error(400, "BadRequest", "Too many requests: the limit is 20.")
        headers = {k: v for k, v in request.headers.items() if k.lower() == "authorization"}
        answers = []
        async with ClientSession() as session:
            for one in wanted:
                url = f"{self.url}/v1.0{one['url']}"
                async with session.request(one.get("method", "GET"), url, headers=headers) as r:
                    raw = await r.read()
                    answers.append({
                        "id": one["id"],
                        "status": r.status,
                        "headers": {k: v for k, v in r.headers.items() if k == "Retry-After"},
                        "body": json.loads(raw) if raw else None,
                    })  # fmt: skip
        return web.json_response({"responses": answers})

    async def get_schedule(self, request: web.Request) -> web.Response:
        """Free/busy (graph_schedule.py)."""
        return await get_schedule(self, request)

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.gate])
        app.router.add_get("/v1.0/me/calendars/{cal}/calendarView/delta", self.delta)
        app.router.add_post("/v1.0/me/calendars/{cal}/events", self.create)
        app.router.add_get("/v1.0/me/calendars/{cal}/events", self.list_events)
        app.router.add_get("/v1.0/me/events/{id}/instances", self.instances)
        app.router.add_get("/v1.0/me/events/{id}", self.get)
        app.router.add_patch("/v1.0/me/events/{id}", self.patch)
        app.router.add_delete("/v1.0/me/events/{id}", self.delete)
        app.router.add_post("/v1.0/$batch", self.batch)
        app.router.add_post("/v1.0/me/calendar/getSchedule", self.get_schedule)
        app.router.add_post("/v1.0/users/{user}/calendar/getSchedule", self.get_schedule)
        app.router.add_get("/v1.0/me/outlook/masterCategories", self.list_categories)
        app.router.add_post("/v1.0/me/outlook/masterCategories", self.add_category)
        return app


def _public(event: dict[str, Any], expand: str | None = None) -> dict[str, Any]:
    hidden = ("exceptions", "cancelled", "singleValueExtendedProperties", "calendarId")
    out = {k: v for k, v in event.items() if k not in hidden}
    for key in ("start", "end"):  # answers in UTC (Prefer: outlook.timezone="UTC")
        if isinstance(out.get(key), dict):
            out[key] = graph_time(parse_time(out[key]))
    if expand and "singleValueExtendedProperties" in expand:
        ids = set(_EXPAND.findall(expand))
        props = event.get("singleValueExtendedProperties", [])
        out["singleValueExtendedProperties"] = [p for p in props if p["id"] in ids]
    return out


def _page_size(prefer: str, default: int) -> int:
    found = re.search(r"odata\.maxpagesize=(\d+)", prefer)
    return int(found.group(1)) if found else default


def _window(lo: str, hi: str) -> tuple[datetime, datetime]:
    return parse_time({"dateTime": lo.rstrip("Z")}), parse_time({"dateTime": hi.rstrip("Z")})


def _encode(state: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(state).encode()).decode().rstrip("=")


def _decode(token: str) -> dict[str, Any] | None:
    try:
        state = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except ValueError:
        return None
    return state if isinstance(state, dict) and {"seq", "lo", "hi"} <= state.keys() else None


@contextmanager
def serve_graph(
    fake: FakeGraph | None = None, *, extra: Any = None, tls: tuple[Path, Path] | None = None
) -> Iterator[FakeGraph]:
    """Run a fake Graph on 127.0.0.1 (a free port) until the block ends; ``extra(app)`` adds
    routes; ``tls`` (certificate, key) serves it over https on a second port too."""
    fake = fake or FakeGraph()
    loop = asyncio.new_event_loop()
    app = fake.app()
    if extra is not None:
        extra(app)
    runner = web.AppRunner(app, access_log=None)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    fake.url = f"http://127.0.0.1:{port}"
    if tls is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(tls[0]), str(tls[1]))
        secure = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
        loop.run_until_complete(secure.start())
        port = secure._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        fake.secure_url = f"https://127.0.0.1:{port}"
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
