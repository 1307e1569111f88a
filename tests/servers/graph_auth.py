"""The fake Microsoft identity platform for the fake Graph: OIDC discovery, device code, token.

From Microsoft's documentation (learn.microsoft.com/entra/identity-platform/
v2-oauth2-device-code, v2-oauth2-auth-code-flow "Refresh the access token", and
v2-protocols-oidc): ``/{tenant}/v2.0/.well-known/openid-configuration`` names the endpoints;
``/{tenant}/oauth2/v2.0/devicecode`` answers device_code, user_code, verification_uri,
expires_in, interval and message; ``/{tenant}/oauth2/v2.0/token`` answers
``authorization_pending`` until the user has signed in (here: after ``approve_after`` polls),
``authorization_declined`` or ``expired_token`` when told to, then the tokens; a refresh
token is used once and a new one comes back (rotation), an unknown one is ``invalid_grant``.
Access tokens it issues are accepted by the fake Graph (``FakeGraph.tokens``). MSAL insists
on an https authority, so this is served over TLS with a certificate made by the test.

Left out: the authorization-code flow, client credentials (app-only), conditional access,
signed id tokens (MSAL reads their claims without checking a signature for public clients).
"""

from __future__ import annotations

import base64
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from servers.graph_server import FakeGraph

_ids = itertools.count(1)


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


@dataclass
class FakeIdentity:
    graph: FakeGraph
    url: str = ""  # https://127.0.0.1:PORT, set when served
    approve_after: int = 1
    outcome: str = "approve"  # or "decline", "expire"
    user: str = "coach@example.org"
    polls: dict[str, int] = field(default_factory=dict)
    refresh_tokens: set[str] = field(default_factory=set)
    grants: list[str] = field(default_factory=list)

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", self.discovery)
        app.router.add_post("/{tenant}/oauth2/v2.0/devicecode", self.devicecode)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self.token)

    async def discovery(self, request: web.Request) -> web.Response:
        base = f"{self.url}/{request.match_info['tenant']}"
        return web.json_response(
            {
                "issuer": f"{base}/v2.0",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            }
        )

    async def devicecode(self, request: web.Request) -> web.Response:
        form = await request.post()
        if "client_id" not in form:
            return _fail("invalid_request", "AADSTS900144: client_id is missing")
        code = f"dc{next(_ids)}"
        self.polls[code] = 0
        user_code = f"FAKE-{next(_ids):04d}"
        return web.json_response(
            {
                "device_code": code,
                "user_code": user_code,
                "verification_uri": "https://microsoft.com/devicelogin",
                "expires_in": 900,
                "interval": 1,
                "message": "To sign in, use a web browser to open the page"
                f" https://microsoft.com/devicelogin and enter the code {user_code}"
                " to authenticate.",
            }
        )

    async def token(self, request: web.Request) -> web.Response:
        form = await request.post()
        grant = str(form.get("grant_type", ""))
        self.grants.append(grant)
        client = str(form.get("client_id", ""))
        if grant == "urn:ietf:params:oauth:grant-type:device_code":
            code = str(form.get("device_code", ""))
            if code not in self.polls:
                return _fail("expired_token", "AADSTS70020: the device code is unknown")
            self.polls[code] += 1
            if self.outcome == "decline":
                return _fail("authorization_declined", "AADSTS70000: the user declined")
            if self.outcome == "expire":
                return _fail("expired_token", "AADSTS70020: the device code expired")
            if self.polls[code] <= self.approve_after:
                return _fail("authorization_pending", "AADSTS70016: pending")
            del self.polls[code]
            return self._tokens(client)
        if grant == "refresh_token":
            old = str(form.get("refresh_token", ""))
            if old not in self.refresh_tokens:
                return _fail("invalid_grant", "AADSTS70008: the refresh token has expired")
            self.refresh_tokens.discard(old)  # rotated: the old one is spent
            return self._tokens(client)
        return _fail("unsupported_grant_type", f"AADSTS70003: {grant}")

    def _tokens(self, client: str) -> web.Response:
        access, refresh = f"at{next(_ids)}", f"rt{next(_ids)}"
        self.graph.tokens.add(access)
        self.refresh_tokens.add(refresh)
        now = int(time.time())
        claims = {
            "aud": client,
            "iss": f"{self.url}/tenant1/v2.0",
            "tid": "tenant1",
            "oid": "user1",
            "sub": "user1",
            "preferred_username": self.user,
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "ver": "2.0",
        }
        id_token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
        return web.json_response(
            {
                "token_type": "Bearer",
                "scope": "https://graph.microsoft.com/Calendars.ReadWrite",
                "expires_in": 3600,
                "access_token": access,
                "refresh_token": refresh,
                "id_token": id_token,
                "client_info": _b64({"uid": "user1", "utid": "tenant1"}),
            }
        )


def _fail(code: str, description: str) -> web.Response:
    return web.json_response({"error": code, "error_description": description}, status=400)
