"""Small plain HTML pages that work on a phone: no script, every value escaped."""

from __future__ import annotations

from html import escape

from aiohttp import web

#: Link pages must not be cached, indexed, or leak their URL (the token) onwards.
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
}
_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:0 auto;max-width:32em;padding:1em;"
    "line-height:1.5}button{font-size:1.1em;padding:.7em 1.2em;width:100%;margin-top:1em}"
)


def document(
    title: str,
    body: str,
    status: int = 200,
    headers: dict[str, str] | None = None,
    style: str = "",
) -> web.Response:
    """A whole page around ``body`` (HTML the caller escaped) and its ``<h1>``."""
    found = headers or HEADERS
    referrer = found.get("Referrer-Policy", "no-referrer")
    text = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="referrer" content="{escape(referrer)}">'
        f"<title>{escape(title)}</title><style>{_STYLE}{style}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>\n"
    )
    return web.Response(
        text=text, status=status, content_type="text/html", charset="utf-8", headers=found
    )


def page(
    title: str, paragraphs: list[str], status: int = 200, form: str | None = None
) -> web.Response:
    """``paragraphs`` are plain text (escaped here); ``form`` the label of a POST button
    that submits to the page's own URL."""
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    if form is not None:
        body += f'<form method="post"><button type="submit">{escape(form)}</button></form>'
    return document(title, body, status)
