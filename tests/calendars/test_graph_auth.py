"""``calbridge auth graph``: MSAL's device-code flow against the fake identity platform
(https on loopback, with a certificate made here), and the token cache the sync then uses."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from calbridge.calendars.davauth import AuthenticationFailed
from calbridge.calendars.graph import GraphStore
from calbridge.calendars.graphauth import GraphToken
from cli_helpers import cli, write_config
from conftest import base_config
from servers.graph_auth import FakeIdentity
from servers.graph_server import FakeGraph, serve_graph
from servers.tls import self_signed


@pytest.fixture
def identity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeIdentity]:
    cert, key = self_signed(tmp_path)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))  # MSAL speaks through requests
    fake = FakeGraph()
    found = FakeIdentity(fake)
    with serve_graph(fake, extra=found.add_routes, tls=(cert, key)):
        found.url = fake.secure_url
        fake.tokens.add("-")  # from now on Graph wants a token
        yield found


def _config(tmp_path: Path, db_url: str, identity: FakeIdentity, **calendar: Any) -> Path:
    data = base_config(db_url)
    data["coaches"][0]["calendar"] = {
        "url": identity.graph.calendar_url(),
        "kind": "graph",
        "graph_client_id": "11111111-2222-3333-4444-555555555555",
        "graph_authority": f"{identity.url}/tenant1",
        "graph_token_file": str(tmp_path / "maia.graph.json"),
        **calendar,
    }
    return write_config(tmp_path / "config.toml", data)


def _token(tmp_path: Path, identity: FakeIdentity) -> GraphToken:
    client = "11111111-2222-3333-4444-555555555555"
    return GraphToken(client, f"{identity.url}/tenant1", tmp_path / "maia.graph.json")


def test_device_code_sign_in_writes_a_private_token_file_the_sync_uses(
    tmp_path: Path, db_url: str, identity: FakeIdentity, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, db_url, identity)
    code, data, err = cli(capsys, config, "auth", "graph", "--coach", "maia", "--json")
    assert code == 0, err
    assert data["account"] == "coach@example.org"
    assert "https://microsoft.com/devicelogin" in err and "FAKE-" in err
    token_file = tmp_path / "maia.graph.json"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert [rt for rt in identity.refresh_tokens if rt in token_file.read_text()]
    assert identity.grants.count("urn:ietf:params:oauth:grant-type:device_code") == 2
    with GraphStore(identity.graph.calendar_url(), _token(tmp_path, identity)) as store:
        assert store.changes(None).full  # Graph took the access token from the cache


def test_a_rotated_refresh_token_is_written_back(
    tmp_path: Path, db_url: str, identity: FakeIdentity, capsys: pytest.CaptureFixture[str]
) -> None:
    cli(capsys, _config(tmp_path, db_url, identity), "auth", "graph", "--coach", "maia")
    token_file = tmp_path / "maia.graph.json"
    before = token_file.read_text()
    identity.graph.tokens.clear()
    identity.graph.tokens.add("-")  # every access token issued so far is refused: 401
    with GraphStore(identity.graph.calendar_url(), _token(tmp_path, identity)) as store:
        assert store.changes(None).full  # 401, refresh (rotated), retried
    assert identity.grants[-1] == "refresh_token"
    assert token_file.read_text() != before and len(identity.refresh_tokens) == 1
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    with GraphStore(identity.graph.calendar_url(), _token(tmp_path, identity)) as store:
        assert store.changes(None).full  # the file holds the new refresh token


def test_a_declined_sign_in_says_so_and_writes_nothing(
    tmp_path: Path, db_url: str, identity: FakeIdentity, capsys: pytest.CaptureFixture[str]
) -> None:
    identity.outcome = "decline"
    code, _, err = cli(
        capsys, _config(tmp_path, db_url, identity), "auth", "graph", "--coach", "maia"
    )
    assert code != 0 and "declined" in err and "Traceback" not in err
    assert not (tmp_path / "maia.graph.json").exists()


def test_a_spent_refresh_token_asks_for_a_new_sign_in(
    tmp_path: Path, db_url: str, identity: FakeIdentity, capsys: pytest.CaptureFixture[str]
) -> None:
    cli(capsys, _config(tmp_path, db_url, identity), "auth", "graph", "--coach", "maia")
    identity.refresh_tokens.clear()
    identity.graph.tokens.clear()
    identity.graph.tokens.add("-")
    store = GraphStore(identity.graph.calendar_url(), _token(tmp_path, identity))
    with store, pytest.raises(AuthenticationFailed, match="calbridge auth graph"):
        store.changes(None)


def test_auth_graph_needs_a_graph_calendar_and_an_https_authority(
    tmp_path: Path, db_url: str, identity: FakeIdentity, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, db_url, identity, graph_authority="http://127.0.0.1:1/t")
    code, _, err = cli(capsys, config, "auth", "graph", "--coach", "maia")
    assert code != 0 and "https://" in err and "Traceback" not in err
    config = _config(tmp_path, db_url, identity, kind="caldav")
    code, _, err = cli(capsys, config, "auth", "graph", "--coach", "maia")
    assert code != 0 and 'kind = "graph"' in err
