"""``calbridge auth google``: the loopback flow with PKCE against the fake Google
(tests/servers/google_auth.py), a browser played by the test, and the CalDAV sync that then
uses the refresh token."""

from __future__ import annotations

import re
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from calbridge.calendars.caldav import CalDAVStore
from calbridge.calendars.davauth import AuthenticationFailed
from calbridge.calendars.googleauth import CALENDAR_SCOPE, GoogleClient, SignedIn, sign_in
from calbridge.calendars.open import auth_for
from calbridge.config.schema import DavSettings
from calbridge.errors import UserError
from cli_helpers import cli, write_config
from conftest import base_config
from servers.google_auth import FakeGoogle

from .fakes import FakeCalDAV

URL = re.compile(r"^\s+(http://127\.0\.0\.1:\d+/o/oauth2/v2/auth\?\S+)$", re.M)


@pytest.fixture
def google(dav: FakeCalDAV) -> Iterator[FakeGoogle]:
    assert dav.bearer is not None
    with FakeGoogle(on_issue=dav.bearer.add) as server:
        yield server


def browser(url: str, choice: str = "allow", follow: bool = True) -> str:
    """What the admin does: open the printed address, answer the consent page; the
    address Google sends the browser to (followed to calbridge's listener if ``follow``)."""
    page = requests.get(url, timeout=10)
    page.raise_for_status()
    request = re.search(r'name="request" value="([^"]+)"', page.text)
    assert request, page.text
    answer = requests.post(
        url.split("/o/oauth2/")[0] + "/consent",
        data={"request": request[1], "choice": choice},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302
    location = answer.headers["Location"]
    if follow:
        assert requests.get(location, timeout=10).status_code == 200
    return location


def _client(google: FakeGoogle, secret: str | None = None) -> GoogleClient:
    return GoogleClient(
        google.client_id,
        google.client_secret if secret is None else secret,
        google.auth_url,
        google.token_url,
    )


def _calendar(tmp_path: Path, google: FakeGoogle, dav: FakeCalDAV) -> dict[str, str]:
    (tmp_path / "google-secret").write_text(google.client_secret + "\n")
    return {
        "url": dav.url,
        "oauth_auth_url": google.auth_url,
        "oauth_token_url": google.token_url,
        "oauth_client_id": google.client_id,
        "oauth_client_secret_file": str(tmp_path / "google-secret"),
        "oauth_refresh_token_file": str(tmp_path / "maia.refresh"),
    }


def _config(tmp_path: Path, db_url: str, calendar: dict[str, str]) -> Path:
    data = base_config(db_url)
    data["coaches"][0]["calendar"] = calendar
    return write_config(tmp_path / "config.toml", data)


def _run(
    google: FakeGoogle, token_file: Path, act: Any, secret: str | None = None, **kw: Any
) -> SignedIn:
    """sign_in in this thread; ``act(url)`` plays the browser in another once it is told."""
    said: list[str] = []

    def say(message: str) -> None:
        said.append(message)
        found = URL.search(message)
        if found:
            threading.Thread(target=act, args=(found[1],), daemon=True).start()

    kw.setdefault("timeout", 20)
    return sign_in(
        _client(google, secret), token_file, say=say, pasted=kw.pop("pasted", None), port=0, **kw
    )


class Admin:
    """``calbridge auth google`` as a process, its stderr read as the admin reads it."""

    def __init__(self, config: Path, *args: str) -> None:
        command = [sys.executable, "-m", "calbridge", "--config", str(config)]
        command += ["auth", "google", "--coach", "maia", "--port", "0", "--timeout", "30"]
        self.proc = subprocess.Popen(
            [*command, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.err: list[str] = []

    def url(self) -> str:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.err.append(line)
            found = URL.search(line)
            if found:
                return found[1]
        raise AssertionError("no authorization URL printed: " + "".join(self.err))

    def finish(self, stdin: str = "") -> tuple[int, str, str]:
        # Not communicate(): it would skip what the stderr reader has buffered already.
        assert self.proc.stdin and self.proc.stdout and self.proc.stderr
        self.proc.stdin.write(stdin)
        self.proc.stdin.close()
        code = self.proc.wait(timeout=60)
        out, err = self.proc.stdout.read(), self.proc.stderr.read()
        return code, out, "".join(self.err) + err

    def __enter__(self) -> Admin:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.__exit__(None, None, None)  # closes the pipes, waits


def test_auth_google_end_to_end_through_the_listener_then_caldav_uses_the_token(
    tmp_path: Path, db_url: str, google: FakeGoogle, dav: FakeCalDAV,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    calendar = _calendar(tmp_path, google, dav)
    with Admin(_config(tmp_path, db_url, calendar), "--json") as admin:
        browser(admin.url())  # consent, then Google's redirect reaches calbridge's listener
        code, out, err = admin.finish()
    assert code == 0, err
    token_file = tmp_path / "maia.refresh"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    refresh = token_file.read_text().strip()
    assert refresh in google.refresh_tokens
    assert refresh not in out and refresh not in err  # never printed
    assert '"scope": "https://www.googleapis.com/auth/calendar"' in out
    assert "ssh -L" in err and [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    asked = google.requests[0]
    assert asked["code_challenge_method"] == "S256" and len(asked["code_challenge"]) == 43
    assert asked["access_type"] == "offline" and asked["scope"] == CALENDAR_SCOPE
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", asked["redirect_uri"])
    exchange = google.token_forms[0]
    assert exchange["grant_type"] == "authorization_code"
    assert exchange["redirect_uri"] == asked["redirect_uri"] and exchange["code_verifier"]
    # The CalDAV backend reads that file, trades it for an access token, and syncs.
    config = tmp_path / "config.toml"
    for args in (
        ["client", "add", "--name", "Ana Lopez", "--email", "ana@example.org", "--id", "ana",
         "--program", "standard"],
        ["session", "plan", "--coach", "maia", "--client", "ana", "--start", "2030-12-02T10:00"],
        ["sync", "--coach", "maia"],
    ):  # fmt: skip
        code, _, err = cli(capsys, config, *args)
        assert code == 0, err
    assert len(dav.members) == 1 and google.issued[-1] in (dav.bearer or ())
    assert google.token_forms[-1] == {
        "grant_type": "refresh_token",
        "refresh_token": refresh,
        "client_id": google.client_id,
        "client_secret": google.client_secret,
    }


def test_a_refresh_token_google_revoked_names_the_command(
    tmp_path: Path, google: FakeGoogle, dav: FakeCalDAV
) -> None:
    done = _run(google, tmp_path / "maia.refresh", browser)
    google.refresh_tokens.clear()  # the coach removed calbridge's access
    cfg = DavSettings(**_calendar(tmp_path, google, dav))
    assert cfg.oauth_refresh_token_file == done.token_file
    with (
        CalDAVStore(dav.url, auth_for(cfg)) as store,
        pytest.raises(AuthenticationFailed, match=r"invalid_grant.*calbridge auth google"),
    ):
        store.changes(None)


def test_auth_google_takes_the_pasted_address_when_the_listener_is_out_of_reach(
    tmp_path: Path, db_url: str, google: FakeGoogle, dav: FakeCalDAV
) -> None:
    with Admin(_config(tmp_path, db_url, _calendar(tmp_path, google, dav))) as admin:
        location = browser(admin.url(), follow=False)  # "can't connect": copied from the bar
        code, out, err = admin.finish(f"not an address\n{location}\n")
    assert code == 0, err
    assert "no code=" in err and "signed in" in out
    assert (tmp_path / "maia.refresh").read_text().strip() in google.refresh_tokens


def test_a_declined_consent_is_one_line_exit_2_and_writes_nothing(
    tmp_path: Path, db_url: str, google: FakeGoogle, dav: FakeCalDAV
) -> None:
    with Admin(_config(tmp_path, db_url, _calendar(tmp_path, google, dav))) as admin:
        browser(admin.url(), choice="deny")
        code, _, err = admin.finish()
    assert code == 2 and "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("calbridge: Google sign-in declined") and "access_denied" in last
    assert not (tmp_path / "maia.refresh").exists() and google.token_forms == []


def test_a_wrong_client_secret_is_named(
    tmp_path: Path, google: FakeGoogle, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(UserError, match=r"invalid_client.*oauth_client_secret_file"):
        _run(google, tmp_path / "t", browser, secret="GOCSPX-old")
    assert not (tmp_path / "t").exists()


def test_a_spent_or_expired_code_is_invalid_grant(tmp_path: Path, google: FakeGoogle) -> None:
    google.code_lifetime = 0
    with pytest.raises(UserError, match=r"refused the authorization code \(invalid_grant"):
        _run(google, tmp_path / "t", browser)
    assert not (tmp_path / "t").exists()


def test_the_calendar_permission_unticked_on_the_consent_page_is_refused(
    tmp_path: Path, google: FakeGoogle
) -> None:
    google.granted = "https://www.googleapis.com/auth/calendar.readonly"
    with pytest.raises(UserError, match="tick the calendar access"):
        _run(google, tmp_path / "t", browser)
    assert not (tmp_path / "t").exists()


def test_an_answer_to_another_sign_in_is_refused(tmp_path: Path, google: FakeGoogle) -> None:
    def forged(url: str) -> None:
        location = browser(url, follow=False)
        requests.get(re.sub(r"state=[^&]+", "state=other", location), timeout=10)

    with pytest.raises(UserError, match="state differs"):
        _run(google, tmp_path / "t", forged)
    assert google.token_forms == []


def test_no_answer_in_time_and_a_taken_port_are_one_line_each(
    tmp_path: Path, google: FakeGoogle
) -> None:
    with pytest.raises(UserError, match=r"no answer from Google.s sign-in page within 0\.3 s"):
        _run(google, tmp_path / "t", lambda url: None, timeout=0.3)
    with FakeGoogle() as taken:
        port = int(taken.base_url.rsplit(":", 1)[1])
        with pytest.raises(UserError, match=f"cannot listen on 127.0.0.1:{port}.*--port"):
            sign_in(_client(google), tmp_path / "t", say=print, pasted=None, port=port)


def test_a_coach_without_oauth_keys_or_a_caldav_calendar_is_told_what_to_set(
    tmp_path: Path, db_url: str, google: FakeGoogle, dav: FakeCalDAV,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    config = _config(tmp_path, db_url, {"url": dav.url})
    code, _, err = cli(capsys, config, "auth", "google", "--coach", "maia")
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "set oauth_token_url, oauth_client_id, oauth_client_secret_file," in err
    config = _config(tmp_path, db_url, {"url": str(tmp_path / "folder")})
    code, _, err = cli(capsys, config, "auth", "google", "--coach", "maia")
    assert code == 2 and "needs a CalDAV url" in err


def test_a_sync_or_check_config_before_the_sign_in_names_the_command(
    tmp_path: Path, db_url: str, google: FakeGoogle, dav: FakeCalDAV,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    config = _config(tmp_path, db_url, _calendar(tmp_path, google, dav))
    code, _, err = cli(capsys, config, "sync", "--coach", "maia")
    assert code == 2 and "no Google sign-in yet; run `calbridge auth google" in err
    code, _, err = cli(capsys, config, "check-config")
    assert code == 0 and "does not exist yet; run `calbridge auth google --coach maia`" in err
