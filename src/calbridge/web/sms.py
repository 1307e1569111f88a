"""The provider's callbacks to calbridge's HTTP server, signature checked:
``POST /sms/inbound`` (a reply: STOP / START record consent) and ``POST /sms/status``
(a delivery status). Twilio posts forms signed with ``X-Twilio-Signature``; the
webhook transport posts JSON signed with ``X-Calbridge-Signature``."""

from __future__ import annotations

import asyncio
import json
import logging

from aiohttp import web

from calbridge.book import contacts
from calbridge.config.schema import Settings
from calbridge.sms import signature
from calbridge.sms.transport import SIGNATURE_HEADER
from calbridge.web.app import Installer
from calbridge.web.offers import BookSource, book_of

log = logging.getLogger(__name__)
INBOUND, STATUS = "/sms/inbound", "/sms/status"
TWIML_EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


async def _fields(request: web.Request, settings: Settings) -> dict[str, str] | None:
    """The callback's fields, or None when its signature does not check out."""
    token = settings.sms.secret()
    if settings.sms.transport == "twilio":
        form = await request.post()
        params = [(k, str(v)) for k, v in form.items()]
        url = settings.http.public_url.rstrip("/") + request.raw_path  # as it was signed
        given = request.headers.get("X-Twilio-Signature", "")
        return dict(params) if signature.twilio_ok(token, url, params, given) else None
    body = await request.read()
    if not signature.webhook_ok(token, body, request.headers.get(SIGNATURE_HEADER, "")):
        return None
    try:
        found = json.loads(body)
    except ValueError:
        return None
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else None


def sms_routes(book: BookSource, settings: Settings) -> Installer:
    twilio = settings.sms.transport == "twilio"

    async def inbound(request: web.Request) -> web.Response:
        fields = await _fields(request, settings)
        if fields is None:
            log.warning("refused an inbound text callback: bad signature")
            return web.Response(status=403, text="signature does not match\n")
        phone, text = (
            fields.get("From" if twilio else "from", ""),
            fields.get("Body" if twilio else "text", ""),
        )
        word = await asyncio.to_thread(contacts.replied, book_of(book), phone, text)
        if word is not None:
            log.info("text reply %s recorded for a number ending %s", word, phone[-4:])
        if twilio:
            return web.Response(text=TWIML_EMPTY, content_type="text/xml")
        return web.json_response({"recorded": word})

    async def status(request: web.Request) -> web.Response:
        fields = await _fields(request, settings)
        if fields is None:
            log.warning("refused a text status callback: bad signature")
            return web.Response(status=403, text="signature does not match\n")
        ident = fields.get("MessageSid" if twilio else "id", "")
        state = fields.get("MessageStatus" if twilio else "status", "")
        ours = request.query.get("id", "")
        if state:
            await asyncio.to_thread(contacts.delivered, book_of(book), state, ident, ours)
        return web.Response(status=204)

    def install(app: web.Application) -> None:
        app.router.add_post(INBOUND, inbound)
        app.router.add_post(STATUS, status)

    return install
