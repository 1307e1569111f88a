"""Where queued texts go: a folder (one file per text), a Twilio-compatible REST API, or
a generic signed JSON webhook. Each ``send`` returns the provider's id for the text and
raises ``Temporary`` (429 with its Retry-After, 5xx, timeouts, connection errors) or
``Permanent`` (any other 4xx: this text is refused)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from urllib.parse import quote

import aiohttp

from calbridge.config.schema import SmsSettings
from calbridge.mail.transport import Closing, Permanent, Temporary, eml_name, write_once

SIGNATURE_HEADER = "X-Calbridge-Signature"


def text_name(message_id: str) -> str:
    return eml_name(message_id, ".txt")


class FolderSms:
    """``folder/<id>.txt``: ``To:``, ``From:``, a blank line, the text. A resend replaces."""

    duplicates = False

    def __init__(self, settings: SmsSettings) -> None:
        self.folder = settings.folder

    async def send(self, sender: str, recipient: str, message_id: str, raw: bytes) -> str | None:
        head = f"To: {recipient}\nFrom: {sender}\nId: {message_id}\n\n".encode()
        await asyncio.to_thread(write_once, self.folder, text_name(message_id), head + raw)
        return None

    async def close(self) -> None:
        return None


def sign(key: str, body: bytes) -> str:
    """The webhook's signature: ``sha256=`` hex HMAC-SHA256 of the body with the key."""
    return "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: the backoff decides


class _Http:
    """One aiohttp session per pass; HTTP statuses mapped to Temporary / Permanent."""

    duplicates = True  # a POST repeated is a text repeated: the sender's journal guards it

    def __init__(self, settings: SmsSettings, status_url: str | None) -> None:
        self.settings = settings
        self.status_url = status_url
        self.http: aiohttp.ClientSession | None = None

    def callback(self, message_id: str) -> str:
        """The status URL names our id: a status that comes before we have recorded the
        provider's id (it often does) still finds its text."""
        return f"{self.status_url}?id={quote(message_id, safe='')}"

    def _session(self) -> aiohttp.ClientSession:
        if self.http is None:
            timeout = aiohttp.ClientTimeout(total=self.settings.timeout)
            self.http = aiohttp.ClientSession(timeout=timeout)
        return self.http

    async def _post(self, url: str, **kwargs: object) -> dict[str, object]:
        try:
            async with self._session().post(url, **kwargs) as answer:  # type: ignore[arg-type]
                body = await answer.read()
                status = answer.status
                wait = retry_after(answer.headers.get("Retry-After"))
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise Temporary(f"cannot reach {url}: {type(exc).__name__} {exc}", True) from exc
        detail = _detail(body)
        if status == 429:
            raise Temporary(f"rate limited (429): {detail}", connection=True, retry_after=wait)
        if status in (401, 403):  # the credentials: fixed in the config, then it resumes
            raise Temporary(f"login refused ({status}): {detail}", connection=True)
        if status >= 500:
            raise Temporary(f"provider error {status}: {detail}", connection=status == 503)
        if status >= 400:
            raise Permanent(f"refused ({status}): {detail}")
        try:
            found = json.loads(body) if body else {}
        except ValueError:
            found = {}
        return found if isinstance(found, dict) else {}

    async def close(self) -> None:
        http, self.http = self.http, None
        if http is not None:
            await http.close()


def _detail(body: bytes) -> str:
    try:
        found = json.loads(body)
    except ValueError:
        return body[:200].decode("utf-8", "replace")
    if isinstance(found, dict) and "message" in found:
        code = f" (code {found['code']})" if "code" in found else ""
        return f"{found['message']}{code}"
    return str(found)[:200]


class TwilioSms(_Http):
    """``POST {url}/2010-04-01/Accounts/{sid}/Messages.json`` (form: To, From or
    MessagingServiceSid, Body, StatusCallback) with basic auth; 201 gives ``sid``."""

    async def send(self, sender: str, recipient: str, message_id: str, raw: bytes) -> str | None:
        s = self.settings
        form = {"To": recipient, "Body": raw.decode("utf-8")}
        form["MessagingServiceSid" if sender.startswith("MG") else "From"] = sender
        if self.status_url:
            form["StatusCallback"] = self.callback(message_id)
        url = f"{s.url.rstrip('/')}/2010-04-01/Accounts/{s.account_sid}/Messages.json"
        login = base64.b64encode(f"{s.account_sid}:{s.secret()}".encode()).decode("ascii")
        found = await self._post(url, data=form, headers={"Authorization": f"Basic {login}"})
        sid = found.get("sid")
        return str(sid) if sid else None


class WebhookSms(_Http):
    """``POST url`` with ``{"id", "to", "from", "text"}``, signed (``X-Calbridge-Signature``)
    and with ``Idempotency-Key: id`` so a gateway can drop a repeat; 2xx may give ``id``."""

    async def send(self, sender: str, recipient: str, message_id: str, raw: bytes) -> str | None:
        payload = {"id": message_id, "to": recipient, "from": sender, "text": raw.decode()}
        if self.status_url:
            payload["status_url"] = self.callback(message_id)
        body = json.dumps(payload).encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(self.settings.secret(), body),
            "Idempotency-Key": message_id,
        }
        found = await self._post(self.settings.url, data=body, headers=headers)
        ident = found.get("id")
        return str(ident) if ident else None


def OpenedSms(settings: SmsSettings, status_url: str | None = None) -> Closing:
    """``async with OpenedSms(settings, status_url) as transport``: closed whatever happens."""
    if settings.transport == "twilio":
        return Closing(TwilioSms(settings, status_url if settings.status_callback else None))
    if settings.transport == "webhook":
        return Closing(WebhookSms(settings, status_url))
    return Closing(FolderSms(settings))
