"""The HTML of a client's own page (pure rendering; web/client_page.py serves it).

Every action is a small POST form carrying the link's form token; nothing needs script.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape

from aiohttp import web

from calbridge.book.client_page import LATE, CancelTerms, Item, Visitor
from calbridge.web.pages import HEADERS, document

#: As offer pages, but the referrer stays on our own origin: a POST from the page then
#: carries an Origin (and Referer) the server checks; no other site ever sees the URL.
CLIENT_HEADERS = {**HEADERS, "Referrer-Policy": "same-origin"}
STYLE = (
    ".z{color:#555;font-size:.9em}"
    ".s{border:1px solid #ccc;border-radius:.5em;padding:.2em .9em .9em;margin:1em 0}"
    ".s h2{font-size:1.05em;margin:.6em 0 .2em}.s p{margin:.2em 0}"
    ".acts{display:grid;grid-template-columns:1fr 1fr;gap:.5em;margin-top:.6em}"
    ".acts button,.slots button{margin:0;font-size:1em;padding:.6em}"
    ".slots{display:grid;gap:.5em}.fee{font-size:1.2em;font-weight:bold}"
    ".ask{background:#fff7e0;border-left:.25em solid #c90;padding:.3em .5em}"
    "button{background:#1f5fa8;color:#fff;border:1px solid #1f5fa8;border-radius:.4em}"
    "button.no{background:#fff;color:#1f5fa8}a{display:inline-block;margin-top:1em}"
)
_STATUS = {
    "requested": "Waiting for an answer",
    "scheduled": "Confirmed",
}


def month_name(month: str) -> str:
    """``2026-12`` -> ``December 2026``."""
    return datetime.strptime(month, "%Y-%m").strftime("%B %Y")


def respond(title: str, body: str, status: int = 200) -> web.Response:
    return document(title, body, status, CLIENT_HEADERS, STYLE)


def para(text: str, cls: str = "") -> str:
    return f'<p class="{cls}">{escape(text)}</p>' if cls else f"<p>{escape(text)}</p>"


def button(
    v: Visitor, action: str, label: str, fields: dict[str, str], secondary: bool = False
) -> str:
    """A POST form to ``action`` (relative to the page) with the CSRF field."""
    hidden = {"form": v.form, **fields}
    inputs = "".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(val, quote=True)}">'
        for k, val in hidden.items()
    )
    cls = ' class="no"' if secondary else ""
    return (
        f'<form method="post" action="{escape(action)}">{inputs}'
        f'<button type="submit"{cls}>{escape(label)}</button></form>'
    )


def _state(item: Item) -> str:
    if item.can_accept:
        return "Waiting for your answer"
    if item.answer == "ACCEPTED" and item.status == "requested":
        return "Accepted by you; waiting for your coach"
    return _STATUS.get(item.status, item.status)


def sessions(
    v: Visitor, base: str, items: list[Item], coaches: list[tuple[str, str]]
) -> web.Response:
    body = para(f"Hello {v.name}. These are your upcoming sessions.")
    if not items:
        body += para("You have no upcoming sessions.")
    for coach_id, name in coaches:
        body += button(v, f"{base}/book", f"Book a session with {name}", {"coach": coach_id})
    for item in items:
        fields = {"session": str(item.session_id)}
        acts = ""
        if item.can_accept:
            acts += button(v, f"{base}/accept", "Accept", fields)
        acts += button(v, f"{base}/decline", "Decline", fields, secondary=True)
        if item.can_cancel and not item.asking:
            acts += button(v, f"{base}/move", "Another time", fields, secondary=True)
        if item.can_cancel:
            acts += button(v, f"{base}/cancel", "Cancel", fields, secondary=True)
        note = para(item.request_note, "ask") if item.request_note else ""
        body += (
            f'<div class="s" id="s{item.session_id}"><h2>{escape(item.short)}</h2>'
            + para(f"{item.zone}", "z")
            + para(f"With {item.coach} \u00b7 {_state(item)}")
            + note
            + f'<div class="acts">{acts}</div></div>'
        )
    return respond("Your sessions", body)


def back(base: str) -> str:
    return f'<a href="{escape(base, quote=True)}">Back to your sessions</a>'


def done(base: str, title: str, lines: list[str], status: int = 200) -> web.Response:
    return respond(title, "".join(para(line) for line in lines) + back(base), status)


def cancel_confirm(v: Visitor, base: str, terms: CancelTerms, again: bool = False) -> web.Response:
    item = terms.item
    fields = {"session": str(item.session_id), "confirm": terms.kind}
    body = ""
    if again:
        body += para("The cancellation deadline passed while you were deciding:")
    body += para(f"Your session with {item.coach}:") + para(item.when)
    if terms.kind == LATE:
        title = "Late cancellation"
        body += para(
            f"This session starts in less than {terms.hours:g} hours, so cancelling it now"
            " is a late cancellation and is charged:"
        )
        body += para(terms.fee or "the fee your coach sets", "fee")
        label = "Cancel and pay the late fee"
    else:
        title = "Cancel this session?"
        body += para("Cancelling now is free of charge.")
        label = "Yes, cancel the session"
    body += button(v, f"{base}/cancel", label, fields) + back(base)
    return respond(title, body, 409 if again else 200)


@dataclass(frozen=True)
class Times:
    """A page of free times: to move ``fields['session']`` or book with ``fields['coach']``."""

    title: str
    intro: str
    action: str  # move or book
    fields: dict[str, str]
    month: str
    zone: str
    slots: list[tuple[datetime, str]]  # start, label
    more: bool
    next_month: str


def times(v: Visitor, base: str, t: Times) -> web.Response:
    named, url = month_name(t.month), f"{base}/{t.action}"
    body = para(t.intro)
    if t.slots:
        verb = "move your session there" if t.action == "move" else "ask for it"
        body += para(f"Free times in {named} ({t.zone}); pick one to {verb}:")
        picks = "".join(
            button(v, url, label, {**t.fields, "start": start.isoformat()})
            for start, label in t.slots
        )
        body += f'<div class="slots">{picks}</div>'
    else:
        body += para(f"There is no free time left in {named}.")
    if t.more:
        later = {**t.fields, "month": t.month, "after": t.slots[-1][0].isoformat()}
        body += button(v, url, "Later times", later, True)
    nxt = {**t.fields, "month": t.next_month}
    body += button(v, url, f"Times in {month_name(t.next_month)}", nxt, True)
    return respond(t.title, body + back(base))
