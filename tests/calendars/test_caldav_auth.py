"""Credentials on the wire: Basic, bearer, and OAuth2 refresh tokens (RFC 6749 §6).

The CalDAV side is ``FakeCalDAV`` with ``bearer`` set: it accepts exactly the access tokens
the ``FakeTokenEndpoint`` has issued and not revoked, and records every header it gets.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from calbridge.calendars.base import TransientError
from calbridge.calendars.caldav import CalDAVStore
from calbridge.calendars.davauth import (
    AuthenticationFailed,
    BasicAuth,
    BearerToken,
    OAuth2RefreshToken,
)
from calbridge.calendars.davhttp import RetryPolicy
from calbridge.calendars.open import auth_for, store_refresh_token
from calbridge.config.schema import DavSettings

from .contract import event
from .fakes import FakeCalDAV, FakeTokenEndpoint

NO_RETRY = RetryPolicy(attempts=1)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def endpoint(dav: FakeCalDAV) -> Iterator[FakeTokenEndpoint]:
    assert dav.bearer is not None
    with FakeTokenEndpoint(on_issue=dav.bearer.add) as server:
        yield server


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _oauth(endpoint: FakeTokenEndpoint, clock: Clock, **changes: str) -> OAuth2RefreshToken:
    fields = {
        "client_id": endpoint.client_id,
        "client_secret": endpoint.client_secret,
        "refresh_token": endpoint.refresh_token,
        **changes,
    }
    return OAuth2RefreshToken(endpoint.url, clock=clock, **fields)


def _authorizations(dav: FakeCalDAV) -> list[str | None]:
    return [seen.headers.get("authorization") for seen in dav.seen]


def test_a_static_bearer_token_is_sent(dav: FakeCalDAV) -> None:
    assert dav.bearer is not None
    dav.bearer.add("static-token")
    with CalDAVStore(dav.url, BearerToken("static-token")) as store:
        store.create("a.ics", event("a"))
        assert store.changes(None).changed
    assert _authorizations(dav) == ["Bearer static-token"] * 2


def test_a_refused_bearer_token_is_authentication_failed(dav: FakeCalDAV) -> None:
    with (
        CalDAVStore(dav.url, BearerToken("revoked")) as store,
        pytest.raises(AuthenticationFailed, match="401"),
    ):
        store.changes(None)
    assert len(dav.seen) == 1  # a static token is not asked twice


def test_basic_credentials_are_sent_as_utf8() -> None:
    with FakeCalDAV() as dav, CalDAVStore(dav.url, ("ünï", "pässword")) as store:
        store.changes(None)
        expected = base64.b64encode("ünï:pässword".encode()).decode()
        assert _authorizations(dav) == [f"Basic {expected}"]
    assert "pässword" not in repr(BasicAuth("ünï", "pässword"))


def test_oauth_fetches_an_access_token_once_and_reuses_it(
    dav: FakeCalDAV, endpoint: FakeTokenEndpoint, clock: Clock
) -> None:
    with CalDAVStore(dav.url, _oauth(endpoint, clock)) as store:
        store.create("a.ics", event("a"))
        store.changes(None)
    assert endpoint.issued == ["at-1"]
    assert _authorizations(dav) == ["Bearer at-1"] * 2
    form = endpoint.seen[0].body.decode()
    assert "grant_type=refresh_token" in form and "refresh_token=refresh-1" in form


def test_oauth_refreshes_when_the_server_answers_401(
    dav: FakeCalDAV, endpoint: FakeTokenEndpoint, clock: Clock
) -> None:
    assert dav.bearer is not None
    with CalDAVStore(dav.url, _oauth(endpoint, clock)) as store:
        store.changes(None)
        dav.bearer.clear()  # the provider revoked at-1 early
        listing = store.changes(None)
    assert listing.full
    assert endpoint.issued == ["at-1", "at-2"]
    assert _authorizations(dav) == ["Bearer at-1", "Bearer at-1", "Bearer at-2"]


def test_oauth_refreshes_before_expiry_without_a_401(
    dav: FakeCalDAV, endpoint: FakeTokenEndpoint, clock: Clock
) -> None:
    endpoint.expires_in = 3600
    with CalDAVStore(dav.url, _oauth(endpoint, clock)) as store:
        store.changes(None)
        clock.now += 3600 - 61
        store.changes(None)
        clock.now += 2  # inside the last minute of at-1's life
        store.changes(None)
    assert endpoint.issued == ["at-1", "at-2"]
    assert [s.method for s in dav.seen] == ["REPORT"] * 3  # no request was refused


def test_oauth_keeps_a_rotated_refresh_token(
    dav: FakeCalDAV, endpoint: FakeTokenEndpoint, clock: Clock
) -> None:
    endpoint.rotate = True
    auth = _oauth(endpoint, clock)
    with CalDAVStore(dav.url, auth) as store:
        store.changes(None)
        assert auth.refresh_token == "refresh-2"
        auth.renew()
        store.changes(None)
    assert auth.refresh_token == "refresh-3"
    assert "refresh_token=refresh-2" in endpoint.seen[1].body.decode()


def test_oauth_with_a_revoked_refresh_token_is_authentication_failed(
    dav: FakeCalDAV, endpoint: FakeTokenEndpoint, clock: Clock
) -> None:
    auth = _oauth(endpoint, clock, refresh_token="revoked")
    with (
        CalDAVStore(dav.url, auth) as store,
        pytest.raises(AuthenticationFailed, match="invalid_grant"),
    ):
        store.changes(None)
    assert dav.seen == []


def test_oauth_with_a_wrong_client_secret_is_authentication_failed(
    dav: FakeCalDAV, endpoint: FakeTokenEndpoint, clock: Clock
) -> None:
    with (
        CalDAVStore(dav.url, _oauth(endpoint, clock, client_secret="wrong")) as store,
        pytest.raises(AuthenticationFailed, match="invalid_client"),
    ):
        store.changes(None)


def test_oauth_with_the_token_endpoint_down_is_transient(
    dav: FakeCalDAV, endpoint: FakeTokenEndpoint, clock: Clock
) -> None:
    endpoint.down = True
    with CalDAVStore(dav.url, _oauth(endpoint, clock), retry=NO_RETRY) as store:
        with pytest.raises(TransientError):
            store.changes(None)
        assert dav.seen == []
        endpoint.down = False
        assert store.changes(None).full  # and it recovers by itself


def test_secrets_stay_out_of_reprs(endpoint: FakeTokenEndpoint, clock: Clock) -> None:
    auth = _oauth(endpoint, clock)
    assert endpoint.client_secret not in repr(auth)
    assert endpoint.refresh_token not in repr(auth)
    assert "s3cr3t-bearer" not in repr(BearerToken("s3cr3t-bearer"))


def test_a_rotated_refresh_token_is_stored_and_the_client_kept_between_passes(
    dav: FakeCalDAV, endpoint: FakeTokenEndpoint, tmp_path: Path
) -> None:
    """Google may rotate the refresh token: the new one replaces the file (a restart must
    not start from a revoked token), and the next pass reuses the same client."""
    endpoint.rotate = True
    (tmp_path / "secret").write_text(endpoint.client_secret + "\n")
    (tmp_path / "refresh").write_text(endpoint.refresh_token + "\n")
    cfg = DavSettings(
        url=dav.url,
        oauth_token_url=endpoint.url,
        oauth_client_id=endpoint.client_id,
        oauth_client_secret_file=tmp_path / "secret",
        oauth_refresh_token_file=tmp_path / "refresh",
    )
    first = auth_for(cfg)
    assert isinstance(first, OAuth2RefreshToken)
    with CalDAVStore(dav.url, first) as store:
        store.changes(None)
    assert (tmp_path / "refresh").read_text().strip() == "refresh-2"
    assert (tmp_path / "refresh").stat().st_mode & 0o777 == 0o600
    assert auth_for(cfg) is first
    with CalDAVStore(dav.url, auth_for(cfg)) as store:
        store.changes(None)
    assert endpoint.issued == ["at-1"]  # the access token carried over too


def test_a_read_only_refresh_token_file_keeps_the_rotated_token_in_memory(
    endpoint: FakeTokenEndpoint, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "missing-dir" / "refresh"  # cannot be written: no such folder
    store_refresh_token(path, "refresh-9")
    assert not path.exists()
    assert "cannot be rewritten" in caplog.text and "refresh-9" not in caplog.text
