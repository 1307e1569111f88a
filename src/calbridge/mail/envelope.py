"""One email for one recipient, shaped as IMIP.md asks. Pure: no I/O.

``multipart/mixed`` whose first child is ``multipart/alternative`` (text/plain,
text/html and, for iTIP, ``text/calendar; charset=UTF-8; method=X``), then the same
calendar bytes as an ``invite.ics`` attachment. From is the practice's own address,
Reply-To the coach. Headers are made by the ``email`` package from values with CR, LF
and other controls folded to spaces, so no name or summary can start a header.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.headerregistry import Address, BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.utils import format_datetime

from calbridge.mail.bodies import Body

_CONTROLS = re.compile(r"[\x00-\x1f\x7f]+")


class _Registry(HeaderRegistry):
    """The standard header classes, made once per name (the stock registry builds a new
    class on every lookup, which dominated building a message)."""

    def __init__(self) -> None:
        super().__init__()
        self._made: dict[str, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        found = self._made.get(key)
        if found is None:
            found = self._made[key] = super().__getitem__(name)
        return found


#: The standard policy (RFC-conforming headers, CR/LF refused) with cached header classes.
POLICY = policy.default.clone(header_factory=_Registry())


@dataclass(frozen=True)
class Party:
    name: str
    email: str

    def address(self) -> Address:
        local, _, domain = self.email.rpartition("@")
        if not local or not domain or _CONTROLS.search(self.email):
            raise ValueError(f"not an e-mail address: {self.email!r}")
        return Address(display_name=one_line(self.name), username=local, domain=domain)


def one_line(value: str) -> str:
    """A header-safe value: controls (CR, LF, TAB, ...) become single spaces."""
    return _CONTROLS.sub(" ", value).strip()


def build(
    *,
    sender: Party,
    reply_to: Party,
    to: Party,
    body: Body,
    date: datetime,
    calendar: bytes | None = None,
    method: str | None = None,
) -> EmailMessage:
    """The message; ``calendar`` and ``method`` together make it an iMIP message."""
    if (calendar is None) != (method is None):
        raise ValueError("a calendar part needs its method, and a method its calendar")
    message = EmailMessage(policy=POLICY)
    message["From"] = sender.address()
    message["Reply-To"] = reply_to.address()
    message["To"] = to.address()
    message["Subject"] = one_line(body.subject)
    message["Date"] = format_datetime(date)
    message["Auto-Submitted"] = "auto-generated"
    alternative = EmailMessage(policy=POLICY)
    alternative.set_content(body.text(), subtype="plain", charset="utf-8", cte="quoted-printable")
    alternative.add_alternative(
        body.html(), subtype="html", charset="utf-8", cte="quoted-printable"
    )
    if calendar is not None and method is not None:
        alternative.attach(_calendar_part(calendar, method))
    message["MIME-Version"] = "1.0"
    message.make_mixed()
    message.attach(alternative)
    if calendar is not None:
        attachment = EmailMessage(policy=POLICY)
        attachment.set_content(
            calendar,
            maintype="application",
            subtype="ics",
            disposition="attachment",
            filename="invite.ics",
        )
        message.attach(attachment)
    for part in message.walk():
        if part is not message:
            del part["MIME-Version"]  # set_content adds it; it belongs to the top only
    return message


def _calendar_part(calendar: bytes, method: str) -> EmailMessage:
    part = EmailMessage(policy=POLICY)
    part.set_content(calendar, maintype="text", subtype="calendar", cte="base64")
    part.set_param("charset", "UTF-8", requote=False)
    part.set_param("method", method.upper(), requote=False)
    return part
