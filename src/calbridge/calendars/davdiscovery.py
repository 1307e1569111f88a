"""Find a calendar from a base URL, RFC 4791 §6 / RFC 6764 §6 style.

``url`` may already be a calendar (it is returned as is), a principal, any resource that
names the current user's principal (a server root), or a bare host, where
``/.well-known/caldav`` is tried. From the principal: its calendar-home-set, then the first
calendar collection in it (by href, so the choice is stable) that holds VEVENTs.
Redirects are followed here (at most five), as RFC 6764 §5 expects for the well-known URI.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from calbridge.calendars import davxml as dx
from calbridge.calendars.base import StorageError
from calbridge.calendars.davauth import Auth, as_auth
from calbridge.calendars.davhttp import DavSession, RetryPolicy, unexpected

MAX_REDIRECTS = 5
XML = {"Content-Type": "application/xml; charset=utf-8"}
_START_PROPS = [dx.RESOURCETYPE, dx.CURRENT_USER_PRINCIPAL, dx.CALENDAR_HOME_SET]


def discover(
    url: str,
    auth: Auth | tuple[str, str] | None = None,
    *,
    timeout: float = 30.0,
    retry: RetryPolicy | None = None,
    verify: bool | str = True,
) -> str:
    """The URL of a calendar collection reachable from ``url`` (StorageError if none)."""
    with DavSession(as_auth(auth), timeout=timeout, retry=retry, verify=verify) as http:
        return _Discovery(http).calendar_from(url)


class _Discovery:
    def __init__(self, http: DavSession) -> None:
        self.http = http

    def calendar_from(self, url: str) -> str:
        where, start = self._start(url)
        if start.has(dx.RESOURCETYPE, dx.CALENDAR):
            return urljoin(where, start.href) if start.href else where
        home = start.href_prop(dx.CALENDAR_HOME_SET)
        if home is None:
            home = self._home_of_principal(where, start)
        return self._first_calendar(urljoin(where, home))

    def _start(self, url: str) -> tuple[str, dx.DavResponse]:
        found = self._props(url, _START_PROPS, "0")
        if found is None and urlsplit(url).path in ("", "/"):
            found = self._props(urljoin(url, "/.well-known/caldav"), _START_PROPS, "0")
        if found is None:
            raise StorageError(f"discovery: nothing found at {url}")
        where, page = found
        return where, _own_response(page, where)

    def _home_of_principal(self, where: str, start: dx.DavResponse) -> str:
        principal = start.href_prop(dx.CURRENT_USER_PRINCIPAL)
        if principal is None:
            raise StorageError(f"discovery: {where} is neither a calendar nor names a principal")
        principal_url = urljoin(where, principal)
        found = self._props(principal_url, [dx.CALENDAR_HOME_SET], "0")
        home = (
            None
            if found is None
            else _own_response(found[1], found[0]).href_prop(dx.CALENDAR_HOME_SET)
        )
        if home is None:
            raise StorageError(f"discovery: principal {principal_url} has no calendar-home-set")
        return home

    def _first_calendar(self, home_url: str) -> str:
        found = self._props(home_url, [dx.RESOURCETYPE, dx.COMPONENT_SET], "1")
        if found is None:
            raise StorageError(f"discovery: calendar home {home_url} not found")
        where, page = found
        calendars = sorted(
            dx.canonical_path(response.href, where)
            for response in page.responses
            if response.has(dx.RESOURCETYPE, dx.CALENDAR) and _holds_events(response)
        )
        if not calendars:
            raise StorageError(f"discovery: no calendar for events in {home_url}")
        return urljoin(where, calendars[0])

    def _props(self, url: str, props: list[str], depth: str) -> tuple[str, dx.Multistatus] | None:
        """PROPFIND ``url`` following redirects: (final URL, answer), or None on 404."""
        body = dx.propfind_body(props)
        for _ in range(MAX_REDIRECTS + 1):
            reply = self.http.send("PROPFIND", url, body, {**XML, "Depth": depth})
            location = reply.header("location")
            if reply.status in (301, 302, 303, 307, 308) and location:
                url = urljoin(url, location)
                continue
            if reply.status == 404:
                return None
            if reply.status != 207:
                raise unexpected(reply, f"discovery: PROPFIND {url}")
            try:
                return url, dx.parse_multistatus(reply.body)
            except dx.DavXmlError as exc:
                raise StorageError(f"discovery: PROPFIND {url}: {exc}") from exc
        raise StorageError(f"discovery: more than {MAX_REDIRECTS} redirects from {url}")


def _own_response(page: dx.Multistatus, url: str) -> dx.DavResponse:
    """The response describing ``url`` itself (servers may list it under another spelling)."""
    path = dx.canonical_path(url)
    for response in page.responses:
        if dx.canonical_path(response.href, url).rstrip("/") == path.rstrip("/"):
            return response
    if page.responses:
        return page.responses[0]
    raise StorageError(f"discovery: empty answer for {url}")


def _holds_events(response: dx.DavResponse) -> bool:
    components = response.props.get(dx.COMPONENT_SET)
    if components is None or len(components) == 0:
        return True  # RFC 4791 §5.2.3: absent means any component type
    return any(comp.get("name", "").upper() == "VEVENT" for comp in components)
