"""What a message says, as plain text and as HTML, in the recipient's timezone. Pure.

A client or third party with a timezone of their own (``client add --timezone``) reads
times in it; one without reads the coach's zone and the message says so. Either way the
zone is named. The public note is shown; the private note never reaches here.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from calbridge.core.readers import Reader as Reader
from calbridge.core.readers import reader_of as reader_of
from calbridge.core.readers import when as when


@dataclass(frozen=True)
class Body:
    subject: str
    paragraphs: tuple[str, ...]
    facts: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    link: tuple[str, str] | None = None  # (what it is, URL): the client's page, last

    def text(self) -> str:
        lines = [*self.paragraphs[:1], ""]
        width = max((len(k) for k, _ in self.facts), default=0)
        lines += [f"{k + ':':<{width + 1}} {v}" for k, v in self.facts]
        for para in self.paragraphs[1:]:
            lines += ["", para]
        if self.link is not None:
            lines += ["", self.link[0], self.link[1]]
        return "\n".join(lines).strip() + "\n"

    def html(self) -> str:
        esc = html.escape
        rows = "".join(
            f"<tr><th style='text-align:left;padding-right:1em'>{esc(k)}</th>"
            f"<td>{_br(esc(v))}</td></tr>"
            for k, v in self.facts
        )
        paras = [f"<p>{_br(esc(p))}</p>" for p in self.paragraphs]
        table = f"<table>{rows}</table>" if rows else ""
        if self.link is not None:
            url = esc(self.link[1], quote=True)
            paras.append(f'<p>{esc(self.link[0])}<br><a href="{url}">{url}</a></p>')
        return (
            "<!DOCTYPE html><html><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width'>"
            f"<title>{esc(' '.join(self.subject.split()))}</title></head><body>"
            + paras[0]
            + table
            + "".join(paras[1:])
            + "</body></html>\n"
        )


def _br(text: str) -> str:
    return text.replace("\n", "<br>")


def short(start: datetime, reader: Reader) -> str:
    """``Mon 4 Mar 2030 10:00`` in the reader's zone, for subjects."""
    a = start.astimezone(reader.zone)
    return f"{a:%a} {a.day} {a:%b %Y} {a:%H:%M}"


def lead_words(lead: timedelta) -> str:
    hours = int(lead.total_seconds() // 3600)
    minutes = int(lead.total_seconds() % 3600 // 60)
    if hours and not minutes:
        return "1 hour" if hours == 1 else f"{hours} hours"
    return f"{hours * 60 + minutes} minutes"


@dataclass(frozen=True)
class About:
    """The session a message is about, as the reader should see it."""

    title: str
    coach: str
    start: datetime
    end: datetime
    note: str = ""
    series: bool = False

    def facts(self, reader: Reader) -> tuple[tuple[str, str], ...]:
        found = [("What", self.title), ("When", when(self.start, self.end, reader))]
        found.append(("With", self.coach))
        if self.note:
            found.append(("Note", self.note))
        return tuple(found)


def invitation(
    about: About, reader: Reader, series_rule: str | None = None, agreed: bool = False
) -> Body:
    """``agreed``: the client booked it themself and it is confirmed at once."""
    what = "a series of sessions" if about.series else "a session"
    facts = about.facts(reader)
    if series_rule:
        facts += (("Repeats", series_rule),)
    if agreed:
        return Body(
            f"Confirmed: {about.title}, {short(about.start, reader)}",
            (
                f"Hello {reader.name}, the session you booked with {about.coach} is confirmed.",
                "Nothing to do: it is in your calendar.",
            ),
            facts,
        )
    return Body(
        f"Invitation: {about.title}, {short(about.start, reader)}",
        (
            f"Hello {reader.name}, {about.coach} invites you to {what}.",
            "Use Accept or Decline in your calendar or mail app to answer.",
        ),
        facts,
    )


def moved(
    about: About,
    reader: Reader,
    agreed: bool,
    was: tuple[datetime, datetime],
    by_client: bool = False,
) -> Body:
    before = when(*was, reader)
    if agreed:
        lead = f"Hello {reader.name}, as agreed with you, the session has moved."
        ask = "Nothing to do: the new time is confirmed."
    elif by_client:
        lead = f"Hello {reader.name}, the session has moved as the client asked."
        ask = f"{about.coach} will confirm the new time; your calendar shows it as tentative."
    else:
        lead = f"Hello {reader.name}, {about.coach} has moved the session."
        ask = "Please accept or decline the new time in your calendar or mail app."
    return Body(
        f"Updated: {about.title}, now {short(about.start, reader)}",
        (lead, ask),
        (*about.facts(reader), ("Was", before)),
    )


def confirmed(about: About, reader: Reader) -> Body:
    return Body(
        f"Confirmed: {about.title}, {short(about.start, reader)}",
        (f"Hello {reader.name}, the session is confirmed.",),
        about.facts(reader),
    )


def cancelled(about: About, reader: Reader, reason: str | None, following: bool) -> Body:
    what = "this and all following sessions" if following else "the session"
    paras = [f"Hello {reader.name}, {what} with {about.coach} has been cancelled."]
    facts = about.facts(reader)
    if reason:
        facts += (("Reason", reason),)
    if following:
        paras.append("Your calendar keeps the earlier sessions of the series.")
    return Body(
        f"Cancelled: {about.title}, {short(about.start, reader)}",
        tuple(paras),
        facts,
    )


def declined(about: About, reader: Reader, who: str) -> Body:
    return Body(
        f"Declined by {who}: {about.title}, {short(about.start, reader)}",
        (f"Hello {reader.name}, {who} declined the session; it is off the calendar.",),
        about.facts(reader),
    )


def reminder(about: About, reader: Reader, lead: timedelta) -> Body:
    return Body(
        f"Reminder: {about.title}, {short(about.start, reader)}",
        (f"Hello {reader.name}, a reminder: your session starts in {lead_words(lead)}.",),
        about.facts(reader),
    )


def closure_notice(about: About, reader: Reader, first: str, last: str, reason: str) -> Body:
    span = first if first == last else f"{first} to {last}"
    return Body(
        f"Closure: {about.title}, {short(about.start, reader)}",
        (
            f"Hello {reader.name}, the practice is closed {span}: {reason}.",
            "Your session falls in this time; it stays in the book for now and"
            " the practice will be in touch about it.",
        ),
        about.facts(reader),
    )


def reverted(about: About, reader: Reader, reason: str, session_id: int) -> Body:
    return Body(
        f"Your calendar edit was reverted: {about.title}",
        (
            f"Hello {reader.name}, your calendar edit of session {session_id} was reverted"
            f" because {reason}.",
            "The calendar shows the session as the book has it again. Use calbridge to"
            " move it if the rule allows, or ask an admin.",
        ),
        about.facts(reader),
    )


def calendar_held(reader: Reader, coach: str, reason: str, restore: str, accept: str) -> Body:
    return Body(
        f"Calendar held: events vanished from {coach}'s sessions calendar",
        (
            f"Hello {reader.name}, calbridge is holding {coach}'s sessions calendar: {reason}.",
            'This is what a calendar app\'s "delete all", a replaced collection or a broken'
            " server looks like, so the sessions stay in the book as they were and every"
            " other change keeps syncing.",
            f"To put the events back in the calendar: {restore}",
            f"If the sessions really are off, cancel them (their clients are told): {accept}",
        ),
    )
