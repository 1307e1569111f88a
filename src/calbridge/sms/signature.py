"""Checking that a provider's callback is genuine. Pure.

Twilio: ``X-Twilio-Signature`` is the Base64 HMAC-SHA1, keyed with the auth token, of
the full URL it called followed by every POST parameter's name and value, sorted by
name. The webhook transport: ``X-Calbridge-Signature: sha256=<hex HMAC-SHA256 of the
body>`` (``sms.transport.sign``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable

from calbridge.core.consent import START_WORDS as START_WORDS
from calbridge.core.consent import STOP_WORDS as STOP_WORDS
from calbridge.core.consent import consent_word as consent_word


def twilio(token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    data = url + "".join(k + v for k, v in sorted(params, key=lambda kv: kv[0]))
    digest = hmac.new(token.encode(), data.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def twilio_ok(token: str, url: str, params: Iterable[tuple[str, str]], given: str) -> bool:
    return bool(token) and hmac.compare_digest(twilio(token, url, params), given)


def webhook_ok(token: str, body: bytes, given: str) -> bool:
    wanted = "sha256=" + hmac.new(token.encode(), body, hashlib.sha256).hexdigest()
    return bool(token) and hmac.compare_digest(wanted, given)
