"""A book with services and outcomes configured, and small readers for outcome tests."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from calbridge.book import Book, parties
from calbridge.book.outcomes import Mode, OutcomeRequest, Selection, save
from calbridge.core.outcomes import Outcome
from calbridge.store.tables import AuditRow, ChangeRow, SessionRow
from calbridge.store.tables_outcomes import SessionOutcomeRow

SERVICES = {
    "coaching": {"fee": "80.00", "wage": "45.00"},
    "support": {"fee": "62.50", "wage": "33.35"},
}


def outcome_book(make_book: Callable[..., Book], **changes: Any) -> Book:
    config: dict[str, Any] = {
        "services": SERVICES,
        "outcomes": {"default_service": "coaching", "currency": "EUR"},
    }
    config.update(changes)
    book = make_book(**config)
    parties.add_client(book, "Ana Lopez", "ana@example.org", "standard", "ana")
    parties.add_client(book, "Ben Ng", "ben@example.org", "standard", "ben")
    parties.add_client(book, "Dee Roy", "dee@example.org", "intensive", "dee")
    return book


def complete(
    book: Book,
    *ids: int | None,
    type_label: str | None = "completed",
    outcome: Outcome | None = None,
    dry_run: bool = False,
    **kw: Any,
) -> Any:
    req = OutcomeRequest(outcome=outcome, type_label=type_label, **kw)
    return save(book, Selection(ids=[i or 0 for i in ids]), req, Mode.COMPLETE, dry_run)


def saved(book: Book, session_id: int | None) -> SessionOutcomeRow | None:
    with book.transaction() as db:
        row = db.get(SessionOutcomeRow, session_id)
        if row is not None:
            db.expunge(row)
        return row


def money(book: Book, session_id: int | None) -> tuple[Decimal | None, Decimal | None]:
    row = saved(book, session_id)
    assert row is not None, f"session {session_id} has no saved outcome"
    return row.cost, row.wage


def status(book: Book, session_id: int | None) -> str:
    with book.transaction() as db:
        row = db.get(SessionRow, session_id)
        assert row is not None
        return row.status


def state(book: Book) -> tuple[Any, ...]:
    """Counts that must not change when a request is refused or only previewed."""
    with book.transaction() as db:
        counts = [
            db.scalar(select(func.count()).select_from(t)) or 0
            for t in (SessionOutcomeRow, AuditRow, ChangeRow)
        ]
        statuses = tuple(sorted(db.scalars(select(SessionRow.status))))
    return (*counts, statuses)


def topics(book: Book, session_id: int | None) -> list[str]:
    with book.transaction() as db:
        query = select(ChangeRow.topic).where(ChangeRow.session_id == session_id)
        return list(db.scalars(query.order_by(ChangeRow.id)))
