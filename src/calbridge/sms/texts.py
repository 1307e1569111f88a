"""What a text says: what happened, when (in the reader's zone), and the link; at most
two segments (``segments.MAX``), never the private note (``About`` does not carry it,
and the public note is left to the mail). Pure."""

from __future__ import annotations

from datetime import datetime

from calbridge.mail.bodies import About, Reader
from calbridge.sms.segments import segments

MAX_SEGMENTS = 2


def when(start: datetime, reader: Reader) -> str:
    """``Mon 23 Nov 10:00 (Europe/London)`` in the reader's zone."""
    a = start.astimezone(reader.zone)
    return f"{a:%a} {a.day} {a:%b} {a:%H:%M} ({reader.zone.key})"


def fit(head: str, title: str, tail: str = "", extra: str = "") -> str:
    """``head`` + ``title`` + ``tail`` [+ ``extra``], within two segments: ``extra`` (a
    reason) goes first, then the title is shortened; head and tail (when, link) stay."""
    for text in (f"{head}{title}{tail}{extra}", f"{head}{title}{tail}"):
        if segments(text) <= MAX_SEGMENTS:
            return text
    for keep in range(len(title) - 1, -1, -1):
        text = f"{head}{title[:keep].rstrip()}...{tail}"
        if segments(text) <= MAX_SEGMENTS:
            return text
    return head[:100] + tail  # head and tail alone are always short in practice


def _link(link: str | None) -> str:
    return f" {link}" if link else ""


def reminder(about: About, reader: Reader, link: str | None = None) -> str:
    """The time, not the lead: a reminder sent late must not say "in 24 hours"."""
    tail = f" with {about.coach}, {when(about.start, reader)}.{_link(link)}"
    return fit("Reminder: ", about.title, tail)


def cancelled(
    about: About, reader: Reader, reason: str | None, following: bool, link: str | None = None
) -> str:
    what = "Cancelled (this and all following): " if following else "Cancelled: "
    tail = f" with {about.coach}, {when(about.start, reader)}.{_link(link)}"
    return fit(what, about.title, tail, f" Reason: {reason}" if reason else "")


def moved(about: About, reader: Reader, was: datetime, link: str | None = None) -> str:
    tail = f" with {about.coach} moved to {when(about.start, reader)}"
    return fit("Moved: ", about.title, f"{tail} (was {when(was, reader)}).{_link(link)}")


def declined(about: About, reader: Reader, who: str) -> str:
    return fit(f"{who} declined ", about.title, f", {when(about.start, reader)}.")


def closure(about: About, reader: Reader, first: str, last: str, reason: str) -> str:
    span = first if first == last else f"{first} to {last}"
    tail = f" with {about.coach}, {when(about.start, reader)}: the practice is closed {span}."
    return fit("Closure affects ", about.title, tail, f" {reason}")


def reverted(about: About, reader: Reader, session_id: int) -> str:
    tail = f", {when(about.start, reader)}) was reverted; see your mail."
    return fit(f"Your calendar edit of session {session_id} (", about.title, tail)


def offer(coach: str, choices: list[tuple[datetime, str]], reader: Reader) -> str:
    """Each offered time with its link, as many as two segments hold (the mail has all)."""
    head = f"{coach} offers another time for your session. Tap one to confirm:"
    for shown in range(len(choices), 0, -1):
        listed = "".join(f" {when(t, reader)} {url}" for t, url in choices[:shown])
        more = len(choices) - shown
        tail = f" (+{more} more in your mail)" if more else ""
        text = head + listed + tail
        if segments(text) <= MAX_SEGMENTS:
            return text
    return f"{coach} offers other times for your session: see your mail to choose."


def waitlist_offer(coach: str, start: datetime, url: str, reader: Reader) -> str:
    """A freed time for a waitlisted client: when, and the link that takes it."""
    return fit("A time with ", coach, f" came free: {when(start, reader)}. Take it: {url}")


def waitlist_gone(coach: str, start: datetime, reader: Reader, reason: str = "") -> str:
    """The freed time offered from the waitlist is gone (``reason``: withdrawn, why)."""
    if reason:
        return fit("The freed time with ", coach, f", {when(start, reader)}, is withdrawn.",
                   f" {reason}")  # fmt: skip
    tail = f", {when(start, reader)}, is gone: someone took it first. You stay on the waitlist."
    return fit("The freed time with ", coach, tail)


def offer_cancelled(coach: str, starts: list[datetime], reader: Reader) -> str:
    """`offer cancel`: the offered times are withdrawn; the session keeps its time."""
    shown = ", ".join(when(s, reader) for s in starts[:2]) + (" ..." if len(starts) > 2 else "")
    tail = f" withdrew the times offered ({shown}). Your session keeps its time; see your mail."
    return fit("", coach, tail)
