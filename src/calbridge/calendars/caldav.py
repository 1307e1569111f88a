"""``CalDAVStore``: one calendar collection on a CalDAV server (RFC 4791), and ``discover``.

Listing (``changes``): a sync-collection REPORT (RFC 6578, Depth 0, sync-level 1, never with
DAV:limit, which makes Xandikos drop members for good). A token the server no longer accepts
(Radicale 403, Xandikos 412, both with DAV:valid-sync-token) gives a full listing and a fresh
token. Truncated answers (a 507 for the collection, §3.6) are followed page by page. A server
without the report is listed with PROPFIND: first the collection's getctag (or DAV:sync-token
property), so an unchanged calendar costs one request; if it changed, a Depth 1 PROPFIND of
getetag. Tokens carry their kind as a prefix (``sync:``, ``ctag:``, ``list:``).

Reading: calendar-multiget REPORTs in batches of ``batch_size`` hrefs, no Depth header
(RFC 4791 §7.9). Writing: PUT with If-None-Match: * (create) or If-Match (update), DELETE with
If-Match; a write answered without a strong ETag has its etag fetched, never guessed.

Names and hrefs: a member name is the literal resource name and is percent-encoded into the
URL (so ``resource_name``'s ``%2F`` travels as ``%252F``: both servers refuse a decoded
``/``). Hrefs are canonical absolute paths (``davxml.canonical_path``), the same spelling
whether they come from ``create`` or from a listing.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from types import TracebackType
from urllib.parse import urljoin

from calbridge.calendars import davxml as dx
from calbridge.calendars.base import (
    AlreadyExists,
    EtagMismatch,
    Item,
    Listing,
    ReadOnlyStore,
    StorageError,
    TransientError,
)
from calbridge.calendars.davauth import Auth, as_auth
from calbridge.calendars.davdiscovery import discover
from calbridge.calendars.davhttp import DavSession, Reply, RetryPolicy, unexpected
from calbridge.calendars.naming import check_name

__all__ = ["CalDAVStore", "UidConflict", "discover"]

log = logging.getLogger(__name__)

SYNC, CTAG, LIST = "sync:", "ctag:", "list:"
MAX_SYNC_PAGES = 1000
XML = {"Content-Type": "application/xml; charset=utf-8"}
ICAL = {"Content-Type": "text/calendar; charset=utf-8"}
_UNSUPPORTED_REPORT = frozenset({400, 405, 415, 501})
_BAD_TOKEN = frozenset({400, 403, 409, 412})
_NEWLINES = re.compile(r"\r?\n")


class UidConflict(AlreadyExists):
    """``create``: the server already holds this UID under another name (``existing_href``)."""

    def __init__(self, message: str, existing_href: str | None = None) -> None:
        super().__init__(message)
        self.existing_href = existing_href


class CalDAVStore:
    """A CalDAV calendar collection; close it (or use ``with``) when done."""

    #: Creates may be sent from several threads at once (calendars/writes.py): each is one
    #: request guarded by If-None-Match, and the HTTP session is safe to share.
    parallel_writes = True

    def __init__(
        self,
        url: str,
        auth: Auth | tuple[str, str] | None = None,
        *,
        read_only: bool = False,
        batch_size: int = 100,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        verify: bool | str = True,
    ) -> None:
        self.url = url if url.endswith("/") else url + "/"
        self.read_only = read_only
        self.batch_size = batch_size
        self._path = dx.canonical_path(self.url)
        self._http = DavSession(
            as_auth(auth), timeout=timeout, retry=retry, sleep=sleep, verify=verify
        )
        self._sync_supported: bool | None = None

    def close(self) -> None:
        self._http.close()

    @property
    def requests(self) -> int:
        """HTTP requests this store has sent so far."""
        return self._http.requests

    def __enter__(self) -> CalDAVStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- listing ----------------------------------------------------------------------------

    def changes(self, token: str | None) -> Listing:
        if self._sync_supported is not False:
            since = token[len(SYNC) :] if token and token.startswith(SYNC) else None
            listing = self._sync(since)
            self._sync_supported = listing is not None
            if listing is not None:
                return listing
        return self._listing_by_stamp(token)

    def _sync(self, token: str | None) -> Listing | None:
        """The changes since ``token`` by sync-collection; None if the server lacks the report."""
        full = token is None
        changed: dict[str, str | None] = {}
        deleted: set[str] = set()
        for _ in range(MAX_SYNC_PAGES):
            reply = self._http.send("REPORT", self.url, dx.sync_collection_body(token), _depth0())
            if reply.status != 207:
                return self._sync_refused(reply, token)
            page = _multistatus(reply, "sync-collection")
            if page.sync_token is None:
                return None  # not really RFC 6578; list by PROPFIND instead
            token = page.sync_token
            if not self._merge_page(page, changed, deleted):
                return self._finish_sync(token, changed, deleted, full)
        raise StorageError(f"sync-collection {self.url}: more than {MAX_SYNC_PAGES} pages")

    def _sync_refused(self, reply: Reply, token: str | None) -> Listing | None:
        conditions = dx.error_conditions(reply.body)
        if token is not None and (reply.status in _BAD_TOKEN or dx.VALID_SYNC_TOKEN in conditions):
            log.info("sync token for %s refused (%s): full listing", self.url, reply.status)
            return self._sync(None)
        if reply.status in _UNSUPPORTED_REPORT or dx.SUPPORTED_REPORT in conditions:
            return None
        raise unexpected(reply, f"sync-collection {self.url}")

    def _merge_page(
        self, page: dx.Multistatus, changed: dict[str, str | None], deleted: set[str]
    ) -> bool:
        """Fold one page into ``changed``/``deleted``; True if the server truncated it."""
        truncated = False
        for response in page.responses:
            href = dx.canonical_path(response.href, self.url)
            if response.status == 507:
                truncated = True
            elif self._not_a_member(href):
                continue
            elif response.status == 404:
                changed.pop(href, None)
                deleted.add(href)
            elif response.status in (None, 200):
                changed[href] = response.etag
                deleted.discard(href)
            else:
                raise StorageError(f"sync-collection {self.url}: {href}: {response.status}")
        return truncated

    def _finish_sync(
        self, token: str, changed: dict[str, str | None], deleted: set[str], full: bool
    ) -> Listing:
        etags = {href: etag for href, etag in changed.items() if etag is not None}
        if len(etags) < len(changed):  # a server that left getetag out: ask for it
            listed = self._member_etags()
            for href in changed.keys() - etags.keys():
                if href in listed:
                    etags[href] = listed[href]
                else:
                    deleted.add(href)
        gone = frozenset() if full else frozenset(deleted)
        return Listing(SYNC + token, etags, gone, full=full)

    def _listing_by_stamp(self, token: str | None) -> Listing:
        stamp = self._collection_stamp()
        if stamp is not None:
            current = CTAG + stamp
            if token == current:
                return Listing(current)
            return Listing(current, self._member_etags(), full=True)
        etags = self._member_etags()
        current = LIST + _digest(etags)
        if token == current:
            return Listing(current, snapshot=True)
        return Listing(current, etags, full=True, snapshot=True)

    def _collection_stamp(self) -> str | None:
        """The collection's getctag or DAV:sync-token property (read before the members)."""
        page = self._propfind(self.url, [dx.GETCTAG, dx.SYNC_TOKEN], "0")
        for response in page.responses:
            if dx.canonical_path(response.href, self.url).rstrip("/") == self._path.rstrip("/"):
                return response.text(dx.GETCTAG) or response.text(dx.SYNC_TOKEN)
        return None

    def _member_etags(self) -> dict[str, str]:
        page = self._propfind(self.url, [dx.GETETAG, dx.RESOURCETYPE], "1")
        etags: dict[str, str] = {}
        for response in page.responses:
            href = dx.canonical_path(response.href, self.url)
            if self._not_a_member(href) or response.status == 404:
                continue
            if response.has(dx.RESOURCETYPE, dx.COLLECTION):
                continue
            etag = response.etag
            if etag is None:
                log.warning("%s: member without getetag, skipped", href)
                continue
            etags[href] = etag
        return etags

    def _not_a_member(self, href: str) -> bool:
        """The collection itself (however spelled) or a sub-collection."""
        return href.endswith("/") or href == self._path.rstrip("/")

    def _propfind(self, url: str, props: list[str], depth: str) -> dx.Multistatus:
        headers = {**XML, "Depth": depth}
        reply = self._http.send("PROPFIND", url, dx.propfind_body(props), headers)
        if reply.status != 207:
            raise unexpected(reply, f"PROPFIND {url}")
        return _multistatus(reply, f"PROPFIND {url}")

    # -- reading ----------------------------------------------------------------------------

    def get_many(self, hrefs: Sequence[str]) -> list[Item]:
        wanted = list(dict.fromkeys(dx.canonical_path(href, self.url) for href in hrefs))
        found: dict[str, Item] = {}
        for batch in _batches(wanted, self.batch_size):
            found.update(self._multiget(batch))
        return [found[href] for href in wanted if href in found]

    def _multiget(self, hrefs: list[str]) -> dict[str, Item]:
        reply = self._http.send("REPORT", self.url, dx.multiget_body(hrefs), XML)
        if reply.status != 207:
            raise unexpected(reply, f"calendar-multiget {self.url}")
        items: dict[str, Item] = {}
        for response in _multistatus(reply, "calendar-multiget").responses:
            item = self._item(response)
            if item is not None:
                items[item.href] = item
        return items

    def _item(self, response: dx.DavResponse) -> Item | None:
        href = dx.canonical_path(response.href, self.url)
        if response.status == 404:
            return None  # vanished since it was listed
        if response.status not in (None, 200):
            what = f"calendar-multiget {href}: {response.status}"
            if response.status >= 500:
                raise TransientError(what)
            raise StorageError(what)
        element = response.props.get(dx.CALENDAR_DATA)
        if element is None or not element.text:
            log.warning("%s: no calendar-data in the multiget answer, skipped", href)
            return None
        # XML parsing turned the stored CRLF into LF (XML 1.0 §2.11); iCalendar wants CRLF.
        data = _NEWLINES.sub("\r\n", element.text).encode("utf-8")
        etag = response.etag or self._fetch_etag(urljoin(self.url, href))
        return Item(href, etag, data)

    def _fetch_etag(self, url: str) -> str:
        page = self._propfind(url, [dx.GETETAG], "0")
        etags = [response.etag for response in page.responses]
        etag = next((e for e in etags if e), None)
        if etag is None:
            raise EtagMismatch(f"{url}: no etag (gone right after it was written?)")
        return etag

    # -- writing ----------------------------------------------------------------------------

    def create(self, name: str, data: bytes) -> Item:
        self._check_writable()
        url = dx.member_url(self.url, check_name(name))
        reply = self._http.send("PUT", url, data, {**ICAL, "If-None-Match": "*"})
        if reply.status not in (200, 201, 204):
            raise self._create_error(reply, name)
        return Item(dx.canonical_path(url), self._written_etag(reply, url), bytes(data))

    def _create_error(self, reply: Reply, name: str) -> Exception:
        if dx.NO_UID_CONFLICT in dx.error_conditions(reply.body):  # Radicale 409, Xandikos 412
            existing = dx.conflict_href(reply.body)
            href = dx.canonical_path(existing, self.url) if existing else None
            return UidConflict(f"{name}: its UID is already stored at {href or '?'}", href)
        if reply.status == 412:
            return AlreadyExists(f"{name} exists in {self.url}")
        return unexpected(reply, f"PUT {name}")

    def update(self, href: str, data: bytes, etag: str) -> str:
        self._check_writable()
        url = urljoin(self.url, dx.canonical_path(href, self.url))
        reply = self._http.send("PUT", url, data, {**ICAL, "If-Match": etag})
        if reply.status in (200, 201, 204):
            return self._written_etag(reply, url)
        if dx.NO_UID_CONFLICT in dx.error_conditions(reply.body):
            raise StorageError(f"PUT {href}: the data's UID belongs to another resource")
        if reply.status in (404, 412):
            raise EtagMismatch(f"{href}: etag {etag} is not current ({reply.status})")
        raise unexpected(reply, f"PUT {href}")

    def delete(self, href: str, etag: str) -> None:
        self._check_writable()
        url = urljoin(self.url, dx.canonical_path(href, self.url))
        reply = self._http.send("DELETE", url, b"", {"If-Match": etag})
        if reply.status == 404:
            return  # already gone
        if reply.status == 412:
            raise EtagMismatch(f"{href}: etag {etag} is not current")
        if reply.status not in (200, 204, 207):
            raise unexpected(reply, f"DELETE {href}")
        _check_delete_body(reply, href)

    def _check_writable(self) -> None:
        if self.read_only:
            raise ReadOnlyStore(f"{self.url} is read-only")

    def _written_etag(self, reply: Reply, url: str) -> str:
        etag = reply.header("etag")
        if etag and not etag.startswith("W/"):
            return dx.normalize_etag(etag)
        # No ETag, or a weak one (RFC 4791 §5.3.4: the server changed the data): ask.
        return self._fetch_etag(url)


def _check_delete_body(reply: Reply, href: str) -> None:
    """Radicale answers 200 with a multistatus; any member status there must be a success."""
    if not reply.body or not reply.body.lstrip().startswith(b"<"):
        if reply.status == 207:
            raise StorageError(f"DELETE {href}: 207 without a multistatus body")
        return
    try:
        page = dx.parse_multistatus(reply.body)
    except dx.DavXmlError:
        if reply.status == 207:
            raise StorageError(f"DELETE {href}: unreadable 207 body") from None
        return
    failed = [r.status for r in page.responses if r.status not in (None, 200, 204, 404)]
    if failed:
        raise StorageError(f"DELETE {href}: member statuses {failed}")


def _multistatus(reply: Reply, what: str) -> dx.Multistatus:
    try:
        return dx.parse_multistatus(reply.body)
    except dx.DavXmlError as exc:
        raise StorageError(f"{what}: {exc}") from exc


def _depth0() -> dict[str, str]:
    return {**XML, "Depth": "0"}


def _batches(hrefs: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(hrefs), max(1, size)):
        yield hrefs[start : start + max(1, size)]


def _digest(etags: dict[str, str]) -> str:
    h = hashlib.sha256()
    for href in sorted(etags):
        h.update(f"{href}\x00{etags[href]}\n".encode())
    return h.hexdigest()
