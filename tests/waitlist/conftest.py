"""A book for the waitlist tests: mail to a folder, texts to the fake Twilio on loopback,
Ana by text only, Cy by both, the others by mail."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from calbridge.book import Book, parties
from servers.twilio_fake import FakeTwilio
from sms.conftest import sms_config, token_file, twilio  # noqa: F401  (fixtures re-used)

ANA, CY = "+447911123401", "+447911123403"


@pytest.fixture
def book(
    make_book: Callable[..., Book],
    twilio: FakeTwilio,  # noqa: F811
    token_file: str,  # noqa: F811
) -> Book:
    mail = {"transport": "folder", "folder": "mail", "from": "sessions@practice.example"}
    b = make_book(sms=sms_config(twilio, token_file), mail=mail, state_dir="state")
    parties.add_client(b, "Ana Lopez", "ana@example.org", "standard", "ana", ANA, "sms")
    parties.add_client(b, "Ben Ng", "ben@example.org", "standard", "ben")
    parties.add_client(b, "Cy Park", "cy@example.org", "single", "cy", CY, "both")
    parties.add_client(b, "Dee Roy", "dee@example.org", "intensive", "dee")
    parties.add_client(b, "Eve Fox", "eve@example.org", "standard", "eve")
    return b
