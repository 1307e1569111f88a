"""Phone numbers as E.164 (``+447700900123``), parsed with ``phonenumbers``. Pure."""

from __future__ import annotations


def e164(raw: str, region: str = "GB") -> str:
    """``raw`` as E.164; ``ValueError`` saying what is wrong when it is not a number."""
    import phonenumbers  # a fifth of a second: only commands that read a number pay it

    text = raw.strip()
    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"{raw!r} is not a phone number ({exc._msg})") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError(
            f"{raw!r} is not a valid phone number"
            f" (give it with its country code, like +44 7911 123456)"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
