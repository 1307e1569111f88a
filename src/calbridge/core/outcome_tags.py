"""Outcome tags a coach adds to an event in their calendar app (pure parsing).

A *marker* is something a coach added to a calbridge event to record an outcome:

- a category (CATEGORIES) that names a tag configured in ``[outcomes.tags]`` (other
  categories are the coach's own and are kept, PRODUCT rule 8), or
- text in square brackets in the title (SUMMARY), e.g. ``Session: Ana Lopez [No show]``.

A marker is *known* when it equals (case and spacing ignored) a tag configured in
``[outcomes.tags]``; any other marker (only a title can hold one) is *unknown*, and the
edit is refused rather than guessed at. Events without markers are not outcome edits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TypeVar

T = TypeVar("T")
#: ``[...]`` in a title: at most 40 characters, no nested brackets.
TITLE_TAG = re.compile(r"\[([^\[\]]{1,40})\]")


def normal(tag: str) -> str:
    return " ".join(tag.replace("_", " ").replace("-", " ").lower().split())


def markers(
    summary: str, categories: Iterable[str], own: Iterable[str], tags: Iterable[str] = ()
) -> list[str]:
    """Every marker of an event, in order, each once (see the module docstring)."""
    mine = {normal(c) for c in own}
    configured = {normal(t) for t in tags}
    found = [m.strip() for m in TITLE_TAG.findall(summary)]
    found += [c.strip() for c in categories if normal(c) in configured - mine]
    out: list[str] = []
    for marker in found:
        if marker and normal(marker) not in {normal(o) for o in out}:
            out.append(marker)
    return out


def read(found: Iterable[str], tags: Mapping[str, T]) -> tuple[dict[str, T], list[str]]:
    """(known markers with their targets, unknown markers)."""
    table = {normal(k): v for k, v in tags.items()}
    known: dict[str, T] = {}
    unknown: list[str] = []
    for marker in found:
        target = table.get(normal(marker))
        if target is None:
            unknown.append(marker)
        else:
            known[marker] = target
    return known, unknown
