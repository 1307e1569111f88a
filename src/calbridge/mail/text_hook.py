"""What each notice says by text, as the installed text channel words it. Pure.

The text channel installs its wording (``sms.channel`` installs ``sms.texts``); until
one does, nothing is texted and everyone is mailed."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol, cast

from calbridge.mail.bodies import About, Reader


class Texts(Protocol):
    """The texts a channel sends, one per notice; None: this one has no text."""

    def reminder(self, about: About, reader: Reader, link: str | None = None) -> str | None: ...

    def cancelled(
        self, about: About, reader: Reader, reason: str | None, following: bool,
        link: str | None = None,
    ) -> str | None: ...  # fmt: skip

    def moved(
        self, about: About, reader: Reader, was: datetime, link: str | None = None
    ) -> str | None: ...

    def declined(self, about: About, reader: Reader, who: str) -> str | None: ...

    def closure(
        self, about: About, reader: Reader, first: str, last: str, reason: str
    ) -> str | None: ...

    def reverted(self, about: About, reader: Reader, session_id: int) -> str | None: ...

    def offer(
        self, coach: str, choices: list[tuple[datetime, str]], reader: Reader
    ) -> str | None: ...

    def waitlist_offer(
        self, coach: str, start: datetime, url: str, reader: Reader
    ) -> str | None: ...

    def waitlist_gone(
        self, coach: str, start: datetime, reader: Reader, reason: str = ""
    ) -> str | None: ...

    def offer_cancelled(self, coach: str, starts: list[datetime], reader: Reader) -> str | None: ...


class NoTexts:
    """No text channel installed: nothing is texted."""

    def reminder(self, about: About, reader: Reader, link: str | None = None) -> None:
        return None

    def cancelled(
        self, about: About, reader: Reader, reason: str | None, following: bool,
        link: str | None = None,
    ) -> None:  # fmt: skip
        return None

    def moved(self, about: About, reader: Reader, was: datetime, link: str | None = None) -> None:
        return None

    def declined(self, about: About, reader: Reader, who: str) -> None:
        return None

    def closure(self, about: About, reader: Reader, first: str, last: str, reason: str) -> None:
        return None

    def reverted(self, about: About, reader: Reader, session_id: int) -> None:
        return None

    def offer(self, coach: str, choices: list[tuple[datetime, str]], reader: Reader) -> None:
        return None

    def waitlist_offer(self, coach: str, start: datetime, url: str, reader: Reader) -> None:
        return None

    def waitlist_gone(self, coach: str, start: datetime, reader: Reader, reason: str = "") -> None:
        return None

    def offer_cancelled(self, coach: str, starts: list[datetime], reader: Reader) -> None:
        return None


_texts: list[Texts] = [NoTexts()]


def install_texts(made: Texts) -> None:
    """The text channel: what each notice says by text (``sms.texts``)."""
    _texts[0] = made


class _Installed:
    """The text channel installed at the time of each call."""

    def __getattr__(self, name: str) -> Any:
        return getattr(_texts[0], name)


#: What each notice says by text, as the installed channel words it (none: no texts).
texts = cast("Texts", _Installed())
