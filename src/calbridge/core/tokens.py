"""Signed one-use links for offers, clients' page links, and unguessable feed tokens
(pure: no I/O).

An offer token names (offer id, choice, expiry) and carries an HMAC-SHA256 of exactly
those under the practice's secret, so none of the three can be changed without the key.
Verification compares digests in constant time. That a link works only once is the
book's business (the offer records its answer); a token only proves who made it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime

REJECT = "reject"
_TOKEN = re.compile(r"(\d{1,12})\.(\d{1,3}|reject)\.(\d{1,12})\.([A-Za-z0-9_-]{43})")


class BadToken(ValueError):
    """Not a token we made: malformed, or its signature does not match."""


class ExpiredToken(ValueError):
    """A genuine token past its expiry."""


@dataclass(frozen=True)
class OfferToken:
    offer_id: int
    choice: str  # "1".."n" (the offered time's position) or "reject"
    expires: datetime


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _mac(secret: bytes, message: str) -> bytes:
    return hmac.new(secret, message.encode("utf-8"), hashlib.sha256).digest()


def _offer_message(offer_id: int, choice: str, expires: int) -> str:
    return f"calbridge-offer|{offer_id}|{choice}|{expires}"


def sign_offer(secret: bytes, offer_id: int, choice: str, expires: datetime) -> str:
    if choice != REJECT and not (choice.isdigit() and 0 < int(choice) < 1000):
        raise ValueError(f"an offer choice is a position 1..999 or 'reject', not {choice!r}")
    stamp = int(expires.timestamp())
    mac = _mac(secret, _offer_message(offer_id, choice, stamp))
    return f"{offer_id}.{choice}.{stamp}.{_b64(mac)}"


def verify_offer(secret: bytes, token: str, now: datetime) -> OfferToken:
    """The token's contents; BadToken if forged or altered, ExpiredToken if too late."""
    found = _TOKEN.fullmatch(token)
    if found is None:
        raise BadToken("malformed offer token")
    offer_id, choice, stamp = int(found[1]), found[2], int(found[3])
    expected = _b64(_mac(secret, _offer_message(offer_id, choice, stamp)))
    if not hmac.compare_digest(expected.encode("ascii"), found[4].encode("ascii")):
        raise BadToken("offer token signature does not match")
    expires = datetime.fromtimestamp(stamp, UTC)
    if now >= expires:
        raise ExpiredToken(f"offer {offer_id} expired at {expires.isoformat()}")
    return OfferToken(offer_id, choice, expires)


def feed_token(secret: bytes, kind: str, ident: str) -> str:
    """The unguessable part of a feed URL: 192 bits of HMAC over (kind, id)."""
    return _b64(_mac(secret, f"calbridge-feed|{kind}|{ident}"))[:32]


def feed_token_ok(secret: bytes, kind: str, ident: str, given: str) -> bool:
    return hmac.compare_digest(
        feed_token(secret, kind, ident).encode("ascii"), given.encode("utf-8", "replace")
    )


_CLIENT = re.compile(r"(\d{1,9})\.([A-Za-z0-9_-]{43})")


def sign_client(secret: bytes, client_id: str, version: int) -> str:
    """The token of a client's page link: (version, HMAC over id and version). The book
    keeps the version; raising it there revokes every link signed with the old one."""
    mac = _mac(secret, f"calbridge-client|{client_id}|{version}")
    return f"{version}.{_b64(mac)}"


def verify_client(secret: bytes, client_id: str, token: str) -> int:
    """The version a genuine link of ``client_id`` was signed with; BadToken otherwise."""
    found = _CLIENT.fullmatch(token)
    if found is None:
        raise BadToken("malformed client link")
    version = int(found[1])
    expected = sign_client(secret, client_id, version)
    if not hmac.compare_digest(expected.encode("ascii"), token.encode("ascii")):
        raise BadToken("client link signature does not match")
    return version


def form_token(secret: bytes, client_id: str, version: int) -> str:
    """The hidden field every form of a client's page posts back (CSRF): derived from
    the link but not the link, and void with it."""
    return _b64(_mac(secret, f"calbridge-client-form|{client_id}|{version}"))[:32]


def form_token_ok(secret: bytes, client_id: str, version: int, given: str) -> bool:
    return hmac.compare_digest(
        form_token(secret, client_id, version).encode("ascii"), given.encode("utf-8", "replace")
    )


def digest(token: str) -> str:
    """What the book stores of a used token (never the token itself)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
