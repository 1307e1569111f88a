"""How many SMS segments a text takes: GSM-7 (160, or 153 per part) when every character
is in the GSM 03.38 alphabet (extension characters take two septets), else UCS-2 (70,
or 67 UTF-16 units per part, a surrogate pair never split). Pure."""

from __future__ import annotations

GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = frozenset("^{}\\[~]|€\f")


def is_gsm(text: str) -> bool:
    return all(c in GSM_BASIC or c in GSM_EXTENDED for c in text)


def segments(text: str) -> int:
    """Segments ``text`` is sent as (0 for an empty text)."""
    if not text:
        return 0
    if is_gsm(text):
        units = [2 if c in GSM_EXTENDED else 1 for c in text]  # an escape never splits
        single, part = 160, 153
    else:
        units = [len(c.encode("utf-16-le")) // 2 for c in text]
        single, part = 70, 67
    if sum(units) <= single:
        return 1
    count, used = 1, 0
    for unit in units:
        if used + unit > part:
            count, used = count + 1, 0
        used += unit
    return count


def encoding(text: str) -> str:
    return "GSM-7" if is_gsm(text) else "UCS-2"
