"""``GraphStore``: one Outlook / Microsoft 365 calendar through Microsoft Graph v1.0.

The calendar is configured by its Graph URL (``…/v1.0/me/calendars/{id}`` or
``…/v1.0/me/calendar``) with ``kind = "graph"``. Members are Graph events; an href is the
event's immutable id plus ``.ics`` (``Prefer: IdType="ImmutableId"``), an etag its
``@odata.etag``. The bytes are iCalendar, mapped by graphmap.py.

Listing: a calendarView delta round over a window (from ``WINDOW_START`` to two years ahead,
a new round once less than a year is left); the token is the round's ``@odata.deltaLink``.
Pages (``@odata.nextLink``) are followed. A delta token Graph refused (410 Gone, or 400 with
SyncStateNotFound / resyncRequired) gives a full listing, guarded by the sync like any other.
Occurrences and exceptions of a series are listed under their master (``seriesMasterId``),
whose etag changes with any exception (Exchange keeps exceptions on the master).

Reading: events 20 to a JSON ``$batch`` request, each with calbridge's extended properties;
a member answered 429 or 5xx is fetched again alone, through the retry policy.

Writing: POST with a ``transactionId`` derived from the calendar and the member name (a
retried create cannot make a second event), PATCH and DELETE with ``If-Match``. A create that
finds its transactionId already used by an event that differs is ``AlreadyExists``. Series
exceptions and cancelled occurrences are written to the series' instances after the master.

Throttling (429 with Retry-After, 503, 504) and network failures are retried by the one
retry policy of davhttp.py; a Retry-After too long to wait is ``TransientError``.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from calbridge.calendars import graphmap as gm
from calbridge.calendars.base import (
    AlreadyExists,
    EtagMismatch,
    Item,
    Listing,
    ReadOnlyStore,
    StorageError,
)
from calbridge.calendars.davauth import Auth
from calbridge.calendars.davhttp import DavSession, Reply, RetryPolicy, unexpected
from calbridge.calendars.graphseries import Categories, SeriesWriter
from calbridge.calendars.naming import check_name

DELTA = "delta:"
WINDOW_START = datetime(2000, 1, 1, tzinfo=UTC)
AHEAD, RENEW = timedelta(days=730), timedelta(days=365)
MAX_PAGES = 10_000
BATCH = 20  # requests in one JSON batch, Graph's limit
_RESYNC = ("syncstatenotfound", "resyncrequired", "fullsyncrequired", "syncstateinvalid")


class GraphStore:
    """A Graph calendar; close it (or use ``with``) when done."""

    parallel_writes = True

    def __init__(
        self,
        url: str,
        auth: Auth | None = None,
        *,
        read_only: bool = False,
        page_size: int = 200,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        verify: bool | str = True,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.url = url.rstrip("/")
        cut = self.url.rfind("/calendar")
        if cut < 0:
            raise StorageError(f"{url}: a Graph calendar URL ends in /calendar or /calendars/ID")
        self.events_url = self.url[:cut] + "/events"
        version = self.url.find("/v1.0")
        self.root = self.url[: version + 5] if version >= 0 else self.url[:cut].rsplit("/", 1)[0]
        self.batch_url = self.root + "/$batch"
        self.read_only = read_only
        self.page_size = page_size
        self._now = now
        self._http = DavSession(auth, retry=retry, sleep=sleep, verify=verify)
        self._series = SeriesWriter(self)
        self._categories = Categories(self, self.url[:cut] + "/outlook/masterCategories")

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> GraphStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def requests(self) -> int:
        return self._http.requests

    # -- HTTP -------------------------------------------------------------------------------

    def call(
        self,
        method: str,
        url: str,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        *,
        idempotent: bool = False,
    ) -> Reply:
        prefer = [
            f"odata.maxpagesize={self.page_size}",
            'outlook.timezone="UTC"',
            'IdType="ImmutableId"',
        ]
        sent = {"Accept": "application/json", "Prefer": ", ".join(prefer), **(headers or {})}
        data = b""
        if body is not None:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        return self._http.send(method, url, data, sent, idempotent=idempotent)

    def json_of(self, reply: Reply, what: str) -> dict[str, Any]:
        try:
            found = json.loads(reply.body)
        except ValueError as exc:
            raise StorageError(f"{what}: not JSON ({exc})") from exc
        if not isinstance(found, dict):
            raise StorageError(f"{what}: not a JSON object")
        return found

    def event_url(self, eid: str) -> str:
        return f"{self.events_url}/{quote(eid, safe='')}"

    # -- listing ----------------------------------------------------------------------------

    def changes(self, token: str | None) -> Listing:
        """The token is ``delta:END LINK``: the round's window end, and its deltaLink."""
        end, _, link = (
            token[len(DELTA) :].partition(" ")
            if token and token.startswith(DELTA)
            else ("", "", "")
        )
        if link and self._window_left(end):
            listing = self._round(link, end, full=False)
            if listing is not None:
                return listing
        hi = (self._now() + AHEAD).strftime("%Y-%m-%dT00:00:00Z")
        lo = WINDOW_START.strftime("%Y-%m-%dT00:00:00Z")
        first = f"{self.url}/calendarView/delta?startDateTime={lo}&endDateTime={hi}"
        listing = self._round(first, hi, full=True)
        if listing is None:
            raise StorageError(f"delta {self.url}: a fresh round was refused")
        return listing

    def _window_left(self, end: str) -> bool:
        """Whether the round's window still reaches a year ahead (else start a new one)."""
        try:
            hi = datetime.fromisoformat(end.replace("Z", "+00:00"))
        except ValueError:
            return False
        return hi > self._now() + RENEW

    def _round(self, url: str, end: str, *, full: bool) -> Listing | None:
        changed: dict[str, str] = {}
        deleted: set[str] = set()
        masters: set[str] = set()
        for _ in range(MAX_PAGES):
            reply = self.call("GET", url)
            if reply.status != 200:
                if not full and _resync(reply):
                    return None
                raise unexpected(reply, f"delta {self.url}")
            page = self.json_of(reply, f"delta {self.url}")
            for row in page.get("value", []):
                self._fold(row, changed, deleted, masters)
            if "@odata.nextLink" in page:
                url = str(page["@odata.nextLink"])
                continue
            for mid in masters - deleted:
                etag = self._etag(mid)
                if etag is None:
                    deleted.add(mid + ".ics")
                else:
                    changed[mid + ".ics"] = etag
            gone = frozenset() if full else frozenset(deleted - changed.keys())
            token = f"{DELTA}{end} {page['@odata.deltaLink']}"
            return Listing(token, changed, gone, full=full)
        raise StorageError(f"delta {self.url}: more than {MAX_PAGES} pages")

    def _fold(
        self, row: dict[str, Any], changed: dict[str, str], deleted: set[str], masters: set[str]
    ) -> None:
        eid = str(row.get("id", ""))
        master = row.get("seriesMasterId")
        if row.get("@removed"):
            # Only the id comes back. A cancelled occurrence's id is no href the sync knows
            # (harmless here); its series is listed through its other occurrences, which
            # changed with their master.
            deleted.add(eid + ".ics")
            changed.pop(eid + ".ics", None)
            return
        if master:
            masters.add(str(master))
        else:
            changed[eid + ".ics"] = str(row.get("@odata.etag", ""))
            deleted.discard(eid + ".ics")

    def _etag(self, eid: str) -> str | None:
        reply = self.call("GET", self.event_url(eid) + "?$select=id")
        if reply.status == 404:
            return None
        if reply.status != 200:
            raise unexpected(reply, f"GET {eid}")
        return str(self.json_of(reply, f"GET {eid}").get("@odata.etag", ""))

    # -- reading ----------------------------------------------------------------------------

    def get_many(self, hrefs: Sequence[str]) -> list[Item]:
        """Events fetched 20 to a JSON batch request (Graph's limit); an href that is no
        event id is looked up as calbridge's resource name (a create not yet confirmed)."""
        wanted = list(dict.fromkeys(hrefs))
        events: dict[str, dict[str, Any] | None] = {}
        for start in range(0, len(wanted), BATCH):
            events.update(self._batch(wanted[start : start + BATCH]))
        found: dict[str, Item] = {}
        for href in wanted:
            event = events.get(href)
            if event is None:
                event = self.by_name(href)
            if event is not None and str(event["id"]) + ".ics" not in found:
                item = self._item(event)
                found[item.href] = item
        return list(found.values())

    def _batch(self, hrefs: list[str]) -> dict[str, dict[str, Any] | None]:
        """One $batch of GETs (learn.microsoft.com/graph/json-batching); a member answered
        429 or 5xx is fetched again on its own, through the retry policy."""
        if len(hrefs) == 1:
            return {hrefs[0]: self._event(_eid(hrefs[0]))}
        expand = quote(gm.EXPAND)
        requests = [
            {"id": str(i), "method": "GET", "url": f"{self._rel(_eid(h))}?$expand={expand}"}
            for i, h in enumerate(hrefs)
        ]
        reply = self.call("POST", self.batch_url, {"requests": requests}, idempotent=True)
        if reply.status != 200:
            raise unexpected(reply, f"$batch {self.url}")
        out: dict[str, dict[str, Any] | None] = {}
        for answer in self.json_of(reply, "$batch").get("responses", []):
            href = hrefs[int(answer.get("id", -1))]
            status = int(answer.get("status", 0))
            if status == 200 and isinstance(answer.get("body"), dict):
                out[href] = answer["body"]
            elif status in (400, 404):
                out[href] = None
            else:
                out[href] = self._event(_eid(href))
        return out

    def _rel(self, eid: str) -> str:
        """An event's URL relative to the version root, as $batch wants it."""
        return self.event_url(eid)[len(self.root) :]

    def _item(self, event: dict[str, Any]) -> Item:
        instances = self._series.instances(event) if event.get("type") == "seriesMaster" else None
        _, data = gm.from_graph(event, instances)
        return Item(str(event["id"]) + ".ics", str(event.get("@odata.etag", "")), data)

    def _event(self, eid: str) -> dict[str, Any] | None:
        reply = self.call("GET", f"{self.event_url(eid)}?$expand={quote(gm.EXPAND)}")
        if reply.status in (400, 404):
            return None
        if reply.status != 200:
            raise unexpected(reply, f"GET {eid}")
        return self.json_of(reply, f"GET {eid}")

    def by_name(self, name: str) -> dict[str, Any] | None:
        """calbridge's event stored under ``name`` (its extended property), if any."""
        value = name.replace("'", "''")
        where = (
            "singleValueExtendedProperties/any("
            f"ep: ep/id eq '{gm.NAME_PROP}' and ep/value eq '{value}')"
        )
        url = f"{self.url}/events?$filter={quote(where)}&$expand={quote(gm.EXPAND)}"
        reply = self.call("GET", url)
        if reply.status != 200:
            raise unexpected(reply, f"find {name}")
        found = self.json_of(reply, f"find {name}").get("value", [])
        return found[0] if found else None

    # -- writing ----------------------------------------------------------------------------

    def create(self, name: str, data: bytes) -> Item:
        self._check_writable()
        check_name(name)
        body = self._body(data, name)
        body["transactionId"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.url}/{name}"))
        reply = self.call("POST", f"{self.url}/events", body, idempotent=True)
        if reply.status not in (200, 201):
            raise unexpected(reply, f"create {name}")
        event = self.json_of(reply, f"create {name}")
        if any(event.get(k) != v for k, v in _compared(body).items()):
            raise AlreadyExists(f"{name} exists in {self.url}")
        etag = self._series.write_instances(event, data)
        return Item(str(event["id"]) + ".ics", etag, bytes(data))

    def update(self, href: str, data: bytes, etag: str) -> str:
        self._check_writable()
        eid = _eid(href)
        body = self._body(data, href)
        # The name stays as created: a PATCH upserts extended properties one by one.
        props = body["singleValueExtendedProperties"]
        body["singleValueExtendedProperties"] = [p for p in props if p["id"] != gm.NAME_PROP]
        reply = self.call("PATCH", self.event_url(eid), body, {"If-Match": etag})
        if reply.status in (400, 404, 412):
            raise EtagMismatch(f"{href}: etag {etag} is not current ({reply.status})")
        if reply.status != 200:
            raise unexpected(reply, f"update {href}")
        event = self.json_of(reply, f"update {href}")
        return self._series.write_instances(event, data)

    def delete(self, href: str, etag: str) -> None:
        self._check_writable()
        eid = _eid(href)
        reply = self.call("DELETE", self.event_url(eid), headers={"If-Match": etag})
        if reply.status in (400, 404):
            return
        if reply.status == 412:
            raise EtagMismatch(f"{href}: etag {etag} is not current")
        if reply.status not in (200, 204):
            raise unexpected(reply, f"delete {href}")

    def _body(self, data: bytes, name: str) -> dict[str, Any]:
        try:
            body, label = gm.to_graph_labelled(data, name)
        except ValueError as exc:
            raise StorageError(f"{name}: cannot be written to Outlook: {exc}") from exc
        if label is not None:
            self._categories.ensure(*label)
        return body

    def _check_writable(self) -> None:
        if self.read_only:
            raise ReadOnlyStore(f"{self.url} is read-only")


def _eid(href: str) -> str:
    return href[:-4] if href.endswith(".ics") else href


def _compared(body: dict[str, Any]) -> dict[str, Any]:
    """What a transactionId hit must match to be this create's own retry."""
    return {k: body[k] for k in ("subject", "showAs", "categories")}


def _resync(reply: Reply) -> bool:
    if reply.status == 410:
        return True
    if reply.status != 400:
        return False
    text = reply.body.decode("utf-8", "replace").lower()
    return any(code in text for code in _RESYNC)
