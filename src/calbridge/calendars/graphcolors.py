"""Outlook category colours: a kind's CSS3 colour as the nearest of Outlook's 25 presets.

An Outlook category is a name in the mailbox's master list with a ``color`` of ``preset0``
to ``preset24`` (learn.microsoft.com/graph/api/resources/outlookcategory); each client draws
a preset its own way. The RGB values below are how Outlook on the web draws them, roughly:
a kind's colour goes to the nearest preset by hue first, then lightness (greys, with
little saturation, go to the nearest grey preset).
"""

from __future__ import annotations

import colorsys

import webcolors

PRESETS: dict[str, tuple[int, int, int]] = {
    "preset0": (0xE7, 0x48, 0x56),  # red
    "preset1": (0xFF, 0x8C, 0x00),  # orange
    "preset2": (0xAB, 0x6A, 0x3A),  # brown
    "preset3": (0xFF, 0xF1, 0x00),  # yellow
    "preset4": (0x47, 0xD0, 0x41),  # green
    "preset5": (0x30, 0xC6, 0xCC),  # teal
    "preset6": (0x73, 0xAA, 0x24),  # olive
    "preset7": (0x00, 0xBC, 0xF2),  # blue
    "preset8": (0x88, 0x64, 0xC4),  # purple
    "preset9": (0xE3, 0x00, 0x8C),  # cranberry
    "preset10": (0xA0, 0xAE, 0xB2),  # steel
    "preset11": (0x4E, 0x5F, 0x6E),  # dark steel
    "preset12": (0x9B, 0x9B, 0x9B),  # gray
    "preset13": (0x6E, 0x6E, 0x6E),  # dark gray
    "preset14": (0x00, 0x00, 0x00),  # black
    "preset15": (0xA4, 0x26, 0x2C),  # dark red
    "preset16": (0xCA, 0x50, 0x10),  # dark orange
    "preset17": (0x8E, 0x56, 0x2E),  # dark brown
    "preset18": (0xC1, 0x9C, 0x00),  # dark yellow
    "preset19": (0x10, 0x7C, 0x10),  # dark green
    "preset20": (0x03, 0x83, 0x87),  # dark teal
    "preset21": (0x49, 0x82, 0x05),  # dark olive
    "preset22": (0x00, 0x45, 0x8E),  # dark blue
    "preset23": (0x5C, 0x2E, 0x91),  # dark purple
    "preset24": (0x9B, 0x00, 0x62),  # dark cranberry
}


GREYS = ("preset10", "preset11", "preset12", "preset13", "preset14")


def _hls(rgb: tuple[int, int, int]) -> tuple[float, float, float]:
    return colorsys.rgb_to_hls(*(c / 255 for c in rgb))


def preset_for(color: str) -> str:
    """The Outlook preset nearest a CSS3 colour name (or #rrggbb); "none" if unknown."""
    text = color.strip().lower()
    try:
        rgb = tuple(
            webcolors.hex_to_rgb(text) if text.startswith("#") else webcolors.name_to_rgb(text)
        )
    except ValueError:
        return "none"
    hue, light, sat = _hls((rgb[0], rgb[1], rgb[2]))

    def distance(preset: str) -> float:
        h, lit, s = _hls(PRESETS[preset])
        turn = min(abs(hue - h), 1 - abs(hue - h))
        return (3 * turn) ** 2 + (light - lit) ** 2 + 0.05 * (sat - s) ** 2

    greyish = sat < 0.25 or light < 0.12
    pool = GREYS if greyish else [p for p in PRESETS if p not in GREYS]
    if greyish:
        return min(pool, key=lambda p: abs(light - _hls(PRESETS[p])[1]))
    return min(pool, key=distance)
