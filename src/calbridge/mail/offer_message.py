"""The offer email (PRODUCT rule 4): one link per offered time and a reject link.

Plain ``multipart/alternative`` (text, then HTML), no text/calendar: an offer is a set of
links, not several REQUESTs (IMIP.md "Holds"). From is the practice's address, Reply-To
the coach. Headers are built by the ``email`` package from Address objects, so a name
holding CR/LF cannot start a header of its own. Pure: no I/O.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from calbridge.ical.model import Person

_BREAKS = re.compile(r"[\x00-\x1f\x7f]+")
PAGE_INVITE = "Your sessions (answer, cancel or ask for another time):"


@dataclass(frozen=True)
class Choice:
    start: datetime
    end: datetime
    url: str


@dataclass(frozen=True)
class OfferMail:
    practice: str  # the practice's sending address
    coach: Person
    zone: ZoneInfo  # the client's (else the coach's): every time is stated in it
    client: Person
    current: tuple[datetime, datetime]  # the session's time the coach cannot make
    choices: Sequence[Choice]
    reject_url: str
    deadline: datetime
    note: str = ""  # the session's public note (never the private one)
    page: str = ""  # the client's own page (mail/client_link.py)


def moment(at: datetime, zone: ZoneInfo) -> str:
    local = at.astimezone(zone)
    return f"{local:%A} {local.day} {local:%B %Y}, {local:%H:%M}"


def when(start: datetime, end: datetime, zone: ZoneInfo) -> str:
    return f"{moment(start, zone)}–{end.astimezone(zone):%H:%M}"


def _address(person: Person) -> Address:
    user, _, domain = person.email.partition("@")
    return Address(_BREAKS.sub(" ", person.name).strip(), user, domain)


def _text(mail: OfferMail) -> str:
    tz = mail.zone.key
    lines = [
        f"Hello {mail.client.name},",
        "",
        f"{mail.coach.name} cannot make your session on "
        f"{when(*mail.current, mail.zone)} and offers these times instead "
        f"(all times {tz} time). Open the link of the time you want:",
        "",
    ]
    for number, choice in enumerate(mail.choices, 1):
        lines += [f"{number}. {when(choice.start, choice.end, mail.zone)}", f"   {choice.url}", ""]
    lines += [
        "None of these suits you? Reject them all:",
        f"   {mail.reject_url}",
        "",
        f"The times are held for you until {moment(mail.deadline, mail.zone)} ({tz} time);"
        " after that they are released.",
    ]
    if mail.note:
        lines += ["", mail.note]
    if mail.page:
        lines += ["", PAGE_INVITE, f"   {mail.page}"]
    lines += ["", f"Questions? Reply to this email to reach {mail.coach.name}."]
    return "\n".join(lines) + "\n"


def _html(mail: OfferMail) -> str:
    e = html.escape
    tz = e(mail.zone.key)
    items = "".join(
        f'<li><a href="{e(c.url)}">{e(when(c.start, c.end, mail.zone))}</a></li>'
        for c in mail.choices
    )
    until = e(moment(mail.deadline, mail.zone))
    note = f"<p>{e(mail.note)}</p>" if mail.note else ""
    if mail.page:
        note += f'<p>{e(PAGE_INVITE)}<br><a href="{e(mail.page)}">{e(mail.page)}</a></p>'
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
        '<body style="font-family:sans-serif;max-width:36em">'
        f"<p>Hello {e(mail.client.name)},</p>"
        f"<p>{e(mail.coach.name)} cannot make your session on "
        f"{e(when(*mail.current, mail.zone))} and offers these times instead "
        f"(all times {tz} time). Pick the one you want:</p>"
        f"<ol>{items}</ol>"
        f'<p>None of these suits you? <a href="{e(mail.reject_url)}">Reject them all</a>.</p>'
        f"<p>The times are held for you until {until} ({tz} time).</p>{note}"
        f"<p>Questions? Reply to this email to reach {e(mail.coach.name)}.</p>"
        "</body></html>\n"
    )


def _envelope(mail: OfferMail, subject: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = Address("", *mail.practice.split("@", 1))
    message["To"] = _address(mail.client)
    message["Reply-To"] = _address(mail.coach)
    name = _BREAKS.sub(" ", mail.coach.name).strip()
    message["Subject"] = f"{subject} for your session with {name}"
    return message


def offer_message(mail: OfferMail) -> EmailMessage:
    message = _envelope(mail, "New times offered")
    message.set_content(_text(mail))
    message.add_alternative(_html(mail), subtype="html")
    return message


def offer_cancelled_message(mail: OfferMail, reason: str = "") -> EmailMessage:
    """`offer cancel`: the client is told the offered times are gone and their links dead;
    the session keeps the time it had."""
    tz = mail.zone.key
    lines = [
        f"Hello {mail.client.name},",
        "",
        f"{mail.coach.name} has withdrawn the times offered for your session on"
        f" {when(*mail.current, mail.zone)} ({tz} time):",
        "",
        *(f"- {when(c.start, c.end, mail.zone)}" for c in mail.choices),
        "",
        "Their links no longer work. Your session keeps its time for now;"
        f" {mail.coach.name} will be in touch.",
    ]
    if reason:
        lines += ["", _BREAKS.sub(" ", reason).strip()]
    lines += ["", f"Questions? Reply to this email to reach {mail.coach.name}."]
    message = _envelope(mail, "Offered times withdrawn")
    message.set_content("\n".join(lines) + "\n")
    return message


def waitlist_offer_message(mail: OfferMail) -> EmailMessage:
    """A freed time offered to a waitlisted client: one link takes it, one lets it go.
    ``mail.current`` is the freed time itself (the client has no session yet)."""
    tz = mail.zone.key
    choice = mail.choices[0]
    lines = [
        f"Hello {mail.client.name},",
        "",
        f"A time with {mail.coach.name} has come free: {when(choice.start, choice.end, mail.zone)}"
        f" ({tz} time). You are on the waitlist; open this link to take it:",
        f"   {choice.url}",
        "",
        "Not for you? Let it go to the next person:",
        f"   {mail.reject_url}",
        "",
        f"It is held until {moment(mail.deadline, mail.zone)} ({tz} time) and may be offered"
        " to others on the waitlist too: the first to take it gets it.",
        "",
        f"Questions? Reply to this email to reach {mail.coach.name}.",
    ]
    e = html.escape
    page = (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
        '<body style="font-family:sans-serif;max-width:36em">'
        f"<p>Hello {e(mail.client.name)},</p>"
        f"<p>A time with {e(mail.coach.name)} has come free ({e(tz)} time):</p>"
        f'<p><a href="{e(choice.url)}">Take {e(when(choice.start, choice.end, mail.zone))}</a></p>'
        f'<p>Not for you? <a href="{e(mail.reject_url)}">Let it go</a>.</p>'
        f"<p>It is held until {e(moment(mail.deadline, mail.zone))}; the first on the"
        " waitlist to take it gets it.</p></body></html>\n"
    )
    message = _envelope(mail, "A time has come free")
    message.set_content("\n".join(lines) + "\n")
    message.add_alternative(page, subtype="html")
    return message


def waitlist_gone_message(
    mail: OfferMail, reason: str = "", still_waiting: bool = True
) -> EmailMessage:
    """The freed time offered from the waitlist is gone (taken by someone else first, or
    withdrawn with ``reason``); the client stays on the waitlist."""
    choice = mail.choices[0]
    what = _BREAKS.sub(" ", reason).strip() or "another client on the waitlist took it first"
    lines = [
        f"Hello {mail.client.name},",
        "",
        f"The time with {mail.coach.name} offered to you,"
        f" {when(choice.start, choice.end, mail.zone)} ({mail.zone.key} time), is gone: {what}.",
        "Its link no longer works."
        + (
            " You stay on the waitlist and hear from us when another time comes free."
            if still_waiting
            else ""
        ),
        "",
        f"Questions? Reply to this email to reach {mail.coach.name}.",
    ]
    message = _envelope(mail, "The freed time is gone")
    message.set_content("\n".join(lines) + "\n")
    return message
