"""The text channel plugs itself into the outbox: what each notice says by text
(``texts``) and how a text is sent (``transport``, opened only when texts are sent).
Installed by ``service.wiring``; mail imports nothing of this package."""

from __future__ import annotations

from typing import TYPE_CHECKING

from calbridge.mail import channels
from calbridge.sms import texts

if TYPE_CHECKING:
    from calbridge.events.context import BookContext
    from calbridge.mail.transport import Closing

#: Path of calbridge's HTTP server that takes the provider's delivery status callbacks.
STATUS_PATH = "/sms/status"  # calbridge.web.sms.STATUS


def _opened(book: BookContext) -> Closing:
    from calbridge.sms.transport import OpenedSms  # aiohttp: only when texts are sent

    status_url = book.settings.http.public_url.rstrip("/") + STATUS_PATH
    return OpenedSms(book.settings.sms, status_url)


def install() -> None:
    channels.install_texts(texts)
    channels.openers["sms"] = _opened
