"""Reading and writing completion types, saved outcomes and notes (no rules decided here)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session as Db

from calbridge.core.money import Modifier, ModifierKind
from calbridge.core.outcomes import BUILTIN, Broad, CompletionType, type_key
from calbridge.errors import NotFound
from calbridge.store.tables import SessionRow
from calbridge.store.tables_outcomes import CompletionTypeRow, SessionNoteRow, SessionOutcomeRow


def _to_type(row: CompletionTypeRow) -> CompletionType:
    return CompletionType(
        label=row.label,
        description=row.description,
        maps_to=Broad(row.maps_to),
        client=Modifier(ModifierKind(row.client_kind), row.client_value),
        coach=Modifier(ModifierKind(row.coach_kind), row.coach_value),
        enabled=row.enabled,
    )


def completion_types(db: Db) -> list[CompletionType]:
    """The built-in types, then the admins' own, by label."""
    rows = db.scalars(select(CompletionTypeRow).order_by(CompletionTypeRow.key))
    return [*BUILTIN, *(_to_type(r) for r in rows)]


def completion_type(db: Db, label: str) -> CompletionType:
    key = type_key(label)
    for builtin in BUILTIN:
        if builtin.key == key:
            return builtin
    row = db.get(CompletionTypeRow, key)
    if row is None:
        known = ", ".join(t.label for t in completion_types(db))
        raise NotFound(f"unknown completion type {label!r} (known: {known})")
    return _to_type(row)


def type_row(db: Db, label: str) -> CompletionTypeRow | None:
    return db.get(CompletionTypeRow, type_key(label))


def save_type(db: Db, kind: CompletionType, now: datetime) -> None:
    row = type_row(db, kind.label)
    if row is None:
        row = CompletionTypeRow(key=kind.key, created_at=now)
        db.add(row)
    row.label, row.description, row.maps_to = kind.label, kind.description, kind.maps_to.value
    row.client_kind, row.client_value = kind.client.kind.value, kind.client.value
    row.coach_kind, row.coach_value = kind.coach.kind.value, kind.coach.value
    row.enabled, row.updated_at = kind.enabled, now
    db.flush()


def delete_type(db: Db, label: str) -> None:
    row = type_row(db, label)
    if row is not None:
        db.delete(row)
        db.flush()


def outcome_row(db: Db, session_id: int) -> SessionOutcomeRow | None:
    return db.get(SessionOutcomeRow, session_id)


def outcome_rows(db: Db, session_ids: list[int]) -> dict[int, SessionOutcomeRow]:
    found: dict[int, SessionOutcomeRow] = {}
    for start in range(0, len(session_ids), 500):
        chunk = session_ids[start : start + 500]
        query = select(SessionOutcomeRow).where(SessionOutcomeRow.session_id.in_(chunk))
        found.update({r.session_id: r for r in db.scalars(query)})
    return found


def put_outcome(db: Db, session_id: int, **fields: object) -> SessionOutcomeRow:
    row = outcome_row(db, session_id)
    if row is None:
        row = SessionOutcomeRow(session_id=session_id)
        db.add(row)
    for key, value in fields.items():
        setattr(row, key, value)
    db.flush()
    return row


def note_of(db: Db, session_id: int) -> SessionNoteRow | None:
    query = select(SessionNoteRow).where(
        SessionNoteRow.session_id == session_id, SessionNoteRow.kind == "note"
    )
    return db.scalars(query).first()


def comments(db: Db, session_id: int) -> list[SessionNoteRow]:
    query = select(SessionNoteRow).where(
        SessionNoteRow.session_id == session_id, SessionNoteRow.kind == "comment"
    )
    return list(db.scalars(query.order_by(SessionNoteRow.id)))


def add_note(
    db: Db,
    session_id: int,
    kind: str,
    text: str,
    author: str,
    origin: str,
    now: datetime,
    signed_at: datetime | None = None,
) -> SessionNoteRow:
    row = SessionNoteRow(
        session_id=session_id,
        kind=kind,
        text=text,
        author=author,
        origin=origin,
        created_at=now,
        updated_at=now,
        signed_at=signed_at,
    )
    db.add(row)
    db.flush()
    return row


def amount(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def to_record(
    db: Db,
    coach_id: str,
    start: datetime,
    end: datetime,
    kinds: Sequence[str],
    states: Sequence[str] | None,
) -> list[SessionRow]:
    """The coach's sessions of ``kinds`` starting in [start, end), in order: those in
    ``states``, or (None) those whose saved outcome carries money (a completion type)."""
    query = select(SessionRow).where(
        SessionRow.coach_id == coach_id,
        SessionRow.start >= start,
        SessionRow.start < end,
        SessionRow.kind.in_(kinds),
    )
    if states is None:
        priced = select(SessionOutcomeRow.session_id).where(
            SessionOutcomeRow.type_label.is_not(None)
        )
        query = query.where(SessionRow.id.in_(priced))
    else:
        query = query.where(SessionRow.status.in_(states))
    return list(db.scalars(query.order_by(SessionRow.start, SessionRow.id)))
