"""Admins' completion types: add, list, edit, enable, disable, remove.

Sessions keep a copy of what their type said when they were saved, so any change here
applies to sessions saved from now on only.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from calbridge.book.context import Book
from calbridge.core.model import Actor
from calbridge.core.money import Modifier
from calbridge.core.outcomes import BUILTIN_KEYS, Broad, CompletionType, check_label, type_key
from calbridge.errors import Refused, UserError
from calbridge.store import repo
from calbridge.store import repo_outcomes as store


def modifier(percent: str | None, fixed: str | None, side: str) -> Modifier | None:
    """``--client-percent``/``--client-fixed`` (or the coach's): one, not both."""
    if percent is not None and fixed is not None:
        raise UserError(f"give --{side}-percent or --{side}-fixed, not both")
    try:
        if percent is not None:
            made = Modifier.percent(percent)
            if side == "client" and not 0 <= made.value <= 100:
                raise ValueError(
                    f"{percent!r} is not between 0 and 100 (a client pays at most the fee)"
                )
            return made
        if fixed is not None:
            return Modifier.fixed(fixed)
    except ValueError as exc:
        raise UserError(
            f"--{side}-{'percent' if percent is not None else 'fixed'}: {exc}"
        ) from None
    return None


def _builtin(label: str) -> None:
    if type_key(label) in BUILTIN_KEYS:
        raise Refused(
            "builtin_type",
            f"{label!r} is a built-in completion type and cannot change; add your own instead",
        )


def _log(book: Book, db: Any, kind: CompletionType, action: str, extra: dict[str, Any]) -> None:
    repo.audit(
        db,
        book.clock(),
        "completion_type",
        kind.key,
        action,
        Actor.ADMIN,
        book.origin,
        {**as_json(kind), **extra},
    )


def add(
    book: Book, label: str, description: str, maps_to: str, client: Modifier, coach: Modifier
) -> CompletionType:
    try:
        cleaned = check_label(label)
        broad = Broad(maps_to)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    _builtin(cleaned)
    kind = CompletionType(cleaned, description.strip(), broad, client, coach)
    with book.transaction() as db:
        if store.type_row(db, cleaned) is not None:
            raise Refused("type_exists", f"completion type {cleaned!r} exists; edit it instead")
        store.save_type(db, kind, book.clock())
        _log(book, db, kind, "added", {})
    return kind


def edit(
    book: Book,
    label: str,
    description: str | None = None,
    maps_to: str | None = None,
    client: Modifier | None = None,
    coach: Modifier | None = None,
    enabled: bool | None = None,
) -> CompletionType:
    _builtin(label)
    with book.transaction() as db:
        old = store.completion_type(db, label)
        new = replace(
            old,
            description=old.description if description is None else description.strip(),
            maps_to=old.maps_to if maps_to is None else Broad(maps_to),
            client=client or old.client,
            coach=coach or old.coach,
            enabled=old.enabled if enabled is None else enabled,
        )
        if new == old:
            return old
        store.save_type(db, new, book.clock())
        _log(book, db, new, "edited", {"before": as_json(old)})
        return new


def remove(book: Book, label: str) -> CompletionType:
    _builtin(label)
    with book.transaction() as db:
        old = store.completion_type(db, label)
        store.delete_type(db, label)
        _log(book, db, old, "removed", {})
        return old


def listing(book: Book) -> list[dict[str, Any]]:
    with book.transaction() as db:
        return [as_json(t) for t in store.completion_types(db)]


def as_json(kind: CompletionType) -> dict[str, Any]:
    return {
        "label": kind.label,
        "description": kind.description,
        "maps_to": kind.maps_to.value,
        "client": {"kind": kind.client.kind.value, "value": str(kind.client.value)},
        "coach": {"kind": kind.coach.kind.value, "value": str(kind.coach.value)},
        "client_rule": kind.client.describe(),
        "coach_rule": kind.coach.describe(),
        "enabled": kind.enabled,
        "builtin": kind.builtin,
    }
