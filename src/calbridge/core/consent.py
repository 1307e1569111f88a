"""Consent to texts: the words a reply says STOP or START with. Pure.

The book records them (``book.contacts``); the text channel (``sms``) honours them."""

from __future__ import annotations

STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT"})
START_WORDS = frozenset({"START", "YES", "UNSTOP", "OPTIN"})


def consent_word(text: str) -> str | None:
    """``STOP`` / ``START`` (or a synonym) when the reply is one, else None."""
    word = text.strip().strip(".!").upper()
    return word if word in STOP_WORDS or word in START_WORDS else None
