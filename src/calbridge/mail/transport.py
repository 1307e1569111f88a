"""Where queued messages go: an SMTP server (aiosmtplib) or a folder of ``.eml`` files.

Both raise ``Temporary`` (try again later: server down, 4xx, timeout) or ``Permanent``
(5xx for this recipient: never retried).
"""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path
from types import TracebackType
from typing import Protocol

import aiosmtplib

from calbridge.config.schema import MailSettings

#: Seconds ``close`` waits for a closed SMTP connection to be gone.
CLOSE_WAIT = 2.0


class Temporary(Exception):
    """Not delivered, worth retrying; ``connection`` when the server could not be used;
    ``retry_after``: seconds the provider asked us to wait (HTTP 429 Retry-After)."""

    def __init__(
        self, message: str, connection: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.connection = connection
        self.retry_after = retry_after


class Permanent(Exception):
    """Refused for good (5xx): the message is marked failed."""


class Transport(Protocol):
    #: Whether sending the same Message-ID twice delivers twice (SMTP) or not (folder).
    duplicates: bool

    async def send(
        self, sender: str, recipient: str, message_id: str, raw: bytes
    ) -> str | None: ...  # the provider's id for it, when it gives one

    async def close(self) -> None: ...


_UNSAFE = re.compile(r"[^A-Za-z0-9._@+=-]")


def eml_name(message_id: str, suffix: str = ".eml") -> str:
    """The file a message is written to: named by its Message-ID, so a resend overwrites."""
    return _UNSAFE.sub("_", message_id.strip().strip("<>")) + suffix


class FolderTransport:
    """Writes each message to ``folder/<Message-ID>.eml`` atomically (temp file, fsync,
    rename): a reader never sees half a message, and a resend replaces, never duplicates."""

    duplicates = False

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def send(self, sender: str, recipient: str, message_id: str, raw: bytes) -> None:
        await asyncio.to_thread(write_once, self.folder, eml_name(message_id), raw)

    async def close(self) -> None:
        return None


def write_once(folder: Path, name: str, raw: bytes) -> None:
    """``folder/name`` written atomically (a resend replaces it); Temporary on failure."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / name
        temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        with temp.open("wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
        temp.replace(target)
        fsync_dir(folder)
    except OSError as exc:
        raise Temporary(f"cannot write to {folder}: {exc}", connection=True) from exc


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class SmtpTransport:
    """One connection per pass, opened on first use: plain, STARTTLS or implicit TLS."""

    duplicates = True

    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings
        self.client: aiosmtplib.SMTP | None = None

    async def _connect(self) -> aiosmtplib.SMTP:
        s = self.settings
        client = aiosmtplib.SMTP(
            hostname=s.host,
            port=s.port,
            username=s.username,
            password=s.secret() if s.username else None,
            timeout=s.timeout,
            use_tls=s.tls,
            start_tls=s.starttls,
            cert_bundle=str(s.ca_file) if s.ca_file else None,
        )
        try:
            await client.connect()
        except aiosmtplib.SMTPAuthenticationError as exc:
            client.close()  # connected, but not logged in: do not leak the socket
            raise Temporary(f"SMTP login refused: {exc}", connection=True) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            client.close()
            raise Temporary(f"cannot reach {s.host}:{s.port}: {exc}", connection=True) from exc
        self.client = client
        return client

    async def send(self, sender: str, recipient: str, message_id: str, raw: bytes) -> None:
        client = self.client or await self._connect()
        try:
            await client.sendmail(sender, [recipient], raw)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            await self._reset()
            text = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
            if codes and all(500 <= c < 600 for c in codes):
                raise Permanent(f"{recipient} refused: {text}") from exc
            raise Temporary(f"{recipient} deferred: {text}") from exc
        except aiosmtplib.SMTPResponseException as exc:
            await self._reset()
            if 500 <= exc.code < 600:
                raise Permanent(f"{exc.code} {exc.message}") from exc
            raise Temporary(f"{exc.code} {exc.message}", connection=exc.code == 421) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            await self.close()
            raise Temporary(f"connection to {self.settings.host} lost: {exc}", True) from exc

    async def _reset(self) -> None:
        """After a refusal the transaction is reset (RSET) so the next message can go."""
        if self.client is None:
            return
        try:
            await self.client.rset()
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            await self.close()

    async def close(self) -> None:
        client, self.client = self.client, None
        if client is None:
            return
        protocol = client.protocol
        try:
            await client.quit()
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            client.close()
        await _closed(protocol)


async def _closed(protocol: object, limit: float = CLOSE_WAIT) -> None:
    """Wait (briefly) until the connection is really gone. Over TLS, closing runs a
    shutdown exchange on the event loop; a loop that ends first leaks the socket."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while getattr(protocol, "transport", None) is not None and loop.time() < deadline:
        await asyncio.sleep(0.01)


class Closing:
    """``async with Closing(transport) as transport``: closed whatever happens."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    async def __aenter__(self) -> Transport:
        return self.transport

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.transport.close()


def Opened(settings: MailSettings) -> Closing:
    """``async with Opened(settings) as transport``: the configured mail transport."""
    if settings.transport == "folder":
        return Closing(FolderTransport(settings.folder))
    return Closing(SmtpTransport(settings))
