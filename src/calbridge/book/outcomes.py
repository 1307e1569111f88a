"""Saving outcomes (PRODUCT rule 8): one session or many, all or nothing, with a preview.

Each saved outcome copies the money it produced onto the session (completion type label,
service, fee, wage, cost, pay): editing or removing the type later changes nothing saved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from calbridge.book import planning
from calbridge.book.context import Book
from calbridge.book.waitlist_offers import freed
from calbridge.core import outcomes as rules
from calbridge.core.model import CLIENT_KINDS, Actor, Status
from calbridge.core.money import Money
from calbridge.core.outcomes import CompletionType, Outcome
from calbridge.core.timeutil import day_start, show
from calbridge.errors import NotFound, Refused, UserError
from calbridge.progress import track
from calbridge.store import repo
from calbridge.store import repo_outcomes as store
from calbridge.store.db import Db, lock
from calbridge.store.tables import SessionRow


class Mode(StrEnum):
    COMPLETE = "complete"  # save an outcome (by default: the session was held)
    CANCEL = "cancel"  # cancel with a cancellation outcome (late within the notice period)
    RETYPE = "retype"  # a new completion type for sessions that already have an outcome


@dataclass
class Selection:
    """Sessions by id, or a coach's sessions from ``first`` to ``last`` (dates, inclusive)."""

    ids: list[int] = field(default_factory=list)
    coach_id: str | None = None
    first: date | None = None
    last: date | None = None


@dataclass
class OutcomeRequest:
    outcome: Outcome | None = None
    type_label: str | None = None
    cost: Decimal | None = None  # admin override of what the client pays
    wage: Decimal | None = None  # admin override of what the coach is paid
    service: str | None = None
    reason: str | None = None
    by: Actor = Actor.ADMIN


@dataclass
class Change:
    """What saving does to one session (also the dry run's preview)."""

    session_id: int
    outcome: Outcome
    kind: CompletionType | None
    status: Status
    service: str | None = None
    fee: Decimal | None = None
    wage_rate: Decimal | None = None
    computed: Money | None = None
    money: Money | None = None
    hint: str | None = None
    before: dict[str, Any] = field(default_factory=dict)

    def as_json(self, currency: str) -> dict[str, Any]:
        return {
            "id": self.session_id,
            "outcome": self.outcome.value,
            "outcome_label": self.outcome.label,
            "type": self.kind.label if self.kind else None,
            "status": self.status.value,
            "service": self.service,
            "currency": currency,
            "cost": str(self.money.cost) if self.money else None,
            "wage": str(self.money.wage) if self.money else None,
            "computed_cost": str(self.computed.cost) if self.computed else None,
            "computed_wage": str(self.computed.wage) if self.computed else None,
            "hint": self.hint,
            "before": self.before,
        }


def save(
    book: Book, selection: Selection, req: OutcomeRequest, mode: Mode, dry_run: bool = False
) -> list[Change]:
    """Save outcomes for every selected session, or refuse them all (nothing written)."""
    _check_request(req, mode)
    with book.transaction() as db:
        if req.type_label is not None:
            store.completion_type(db, req.type_label)  # unknown: NotFound, before anything
        rows = _select(book, db, selection, mode)
        lock(db, sorted({f"coach:{r.coach_id}" for r in rows}))
        problems: list[dict[str, Any]] = []
        changes: list[Change] = []
        for row in rows:
            try:
                changes.append(_decide(book, db, row, req, mode))
            except (Refused, ValueError) as exc:  # a rule; bad usage (UserError) stops at once
                problems.append({"id": row.id, "message": _text(exc)})
        if problems:
            lines = "; ".join(f"session {p['id']}: {p['message']}" for p in problems)
            raise Refused(
                "outcome_refused",
                f"{len(problems)} of {len(rows)} session(s) cannot be changed, so none was: "
                + lines,
                problems=problems,
            )
        if not dry_run:
            pairs = zip(rows, changes, strict=True)
            for row, change in track(pairs, "saving outcomes", len(rows)):
                _write(book, db, row, change, req)
        return changes


def _text(exc: Exception) -> str:
    return exc.message if isinstance(exc, Refused) else str(exc)


def _check_request(req: OutcomeRequest, mode: Mode) -> None:
    if mode is Mode.RETYPE and req.type_label is None:
        raise UserError("say which completion type: --type LABEL")
    if mode is Mode.RETYPE and req.outcome is not None:
        raise UserError("re-typing keeps each session's outcome; drop --outcome")
    if mode is Mode.COMPLETE and req.outcome is None and req.type_label is None:
        raise UserError("say what happened: --type TYPE and/or --outcome OUTCOME")
    if mode is Mode.CANCEL and req.outcome is not None and req.outcome not in rules.CANCELLING:
        raise UserError(
            f"cancelling records cancelled or late-cancellation, not {req.outcome.value}"
        )


def _select(book: Book, db: Db, sel: Selection, mode: Mode) -> list[SessionRow]:
    if sel.ids and (sel.coach_id or sel.first or sel.last):
        raise UserError("name sessions by id, or by --coach with --from/--to, not both")
    if sel.ids:
        if len(set(sel.ids)) != len(sel.ids):
            raise UserError("the same session id is named twice")
        got = [db.get(SessionRow, i) for i in sel.ids]
        missing = [i for i, r in zip(sel.ids, got, strict=True) if r is None]
        if missing:
            raise NotFound(
                f"unknown session(s) {', '.join(map(str, missing))}; nothing was changed"
                " (see `calbridge session list`)"
            )
        return [r for r in got if r is not None]
    if not (sel.coach_id and sel.first and sel.last):
        raise UserError("name session ids, or --coach ID with --from DATE and --to DATE")
    if sel.last < sel.first:
        raise UserError("--to is before --from")
    zone = book.zone(sel.coach_id)
    start = day_start(sel.first, zone)
    end = day_start(sel.last + timedelta(days=1), zone)
    kinds = [k.value for k in CLIENT_KINDS]
    # RETYPE: the sessions whose saved outcome carries money; else the open ones
    states = None if mode is Mode.RETYPE else [Status.REQUESTED.value, Status.SCHEDULED.value]
    rows = store.to_record(db, sel.coach_id, start, end, kinds, states)
    if not rows:
        raise UserError(
            f"coach {sel.coach_id} has no session to {mode.value} from {sel.first} to {sel.last}"
        )
    return rows


def _decide(book: Book, db: Db, row: SessionRow, req: OutcomeRequest, mode: Mode) -> Change:
    now = book.clock()
    zone = book.zone(row.coach_id)
    status = Status(row.status)
    saved = store.outcome_row(db, row.id)
    before = {
        "status": status.value,
        "outcome": row.outcome,
        "type": saved.type_label if saved else None,
        "cost": store.amount(saved.cost) if saved else None,
        "wage": store.amount(saved.wage) if saved else None,
    }
    if status is Status.DECLINED:
        raise Refused("not_open", "it was declined; it has no outcome")
    hint = None
    if mode is Mode.RETYPE:
        if saved is None or saved.type_label is None:
            raise Refused("no_outcome", "it has no saved outcome to re-type; complete it first")
        outcome = Outcome(saved.outcome)
    elif mode is Mode.CANCEL:
        if status is Status.COMPLETED:
            raise Refused("not_open", "it is completed; it cannot be cancelled")
        cancelled_at = _cancelled_at(db, row) if status is Status.CANCELLED else now
        is_late = rules.late(row.start, cancelled_at, book.settings.late_notice(row.service))
        outcome = req.outcome or (
            Outcome.LATE_CANCELLATION if is_late and row.direct else Outcome.CANCELLED
        )
        hint = _late_hint(book, row, outcome, is_late)
    else:
        kind = store.completion_type(db, req.type_label) if req.type_label else None
        outcome = req.outcome or rules.default_outcome(
            kind.maps_to if kind else rules.Broad.COMPLETED,
            row.direct,
            row.start,
            now,
            book.settings.late_notice(row.service),
        )
        if outcome in rules.CANCELLING:
            is_late = rules.late(row.start, now, book.settings.late_notice(row.service))
            hint = _late_hint(book, row, outcome, is_late)
    rules.check_fits(outcome, row.direct, row.id)
    target = outcome.final_status or status
    if status is Status.COMPLETED and target is Status.CANCELLED:
        raise Refused("not_open", "it is completed; it cannot be cancelled")
    if status is Status.CANCELLED and target is not Status.CANCELLED:
        raise Refused("not_open", f"it is cancelled; it cannot be {outcome.label.lower()}")
    if target is Status.COMPLETED and row.start > now:
        raise Refused(
            "not_started",
            f"it has not started yet (starts {show(row.start, zone)}); an outcome is"
            " saved once it has",
        )
    change = Change(row.id, outcome, None, target, hint=hint, before=before)
    if not outcome.money:
        if req.type_label or req.cost is not None or req.wage is not None:
            raise UserError(f"{outcome.label} is not final: it takes no --type, --cost or --wage")
        return change
    label = req.type_label or rules.DEFAULT_TYPE[outcome]
    kind = store.completion_type(db, label)
    if not kind.enabled:
        raise Refused("type_disabled", f"completion type {kind.label!r} is disabled")
    service = req.service or (saved.service if saved and mode is Mode.RETYPE else None)
    service = service or row.service or book.settings.outcomes.default_service
    change.kind, change.service = kind, service
    fee, rate = _rates(book, service, kind)
    change.fee, change.wage_rate = fee, rate
    change.computed = kind.price(fee or Decimal(0), rate or Decimal(0))
    change.money = Money(
        req.cost if req.cost is not None else change.computed.cost,
        req.wage if req.wage is not None else change.computed.wage,
    )
    return change


def _rates(
    book: Book, service: str | None, kind: CompletionType
) -> tuple[Decimal | None, Decimal | None]:
    services = book.settings.services
    if service is None:
        if kind.needs_service:
            raise UserError(
                f"no service to price type {kind.label!r} with: give --service NAME or set"
                " outcomes.default_service"
                + (f" (known: {', '.join(sorted(services))})" if services else "")
            )
        return None, None
    found = services.get(service)
    if found is None:
        known = ", ".join(sorted(services)) or "none configured in [services]"
        raise UserError(f"unknown service {service!r} (known: {known})")
    return found.fee, found.wage


def _late_hint(book: Book, row: SessionRow, outcome: Outcome, is_late: bool) -> str | None:
    if not is_late or not row.direct:
        return None
    hours = f"{book.settings.policy(row.service).cancel_deadline_hours:g}"
    if outcome is Outcome.LATE_CANCELLATION:
        return f"cancelled with less than {hours} h notice: recorded as a late cancellation"
    return (
        f"cancelled with less than {hours} h notice: a late cancellation?"
        " (--outcome late-cancellation)"
    )


def _cancelled_at(db: Db, row: SessionRow) -> datetime:
    return repo.last_audited(db, "session", row.id, "cancelled") or row.updated_at


def _write(book: Book, db: Db, row: SessionRow, change: Change, req: OutcomeRequest) -> None:
    now = book.clock()
    was = Status(row.status)
    if change.status is Status.CANCELLED and was is not Status.CANCELLED:
        planning.cancel_row(book, db, row, req.by, req.reason, notify=True)
        freed(book, db, row.coach_id, [(row.start, row.end)])  # to the waitlist
    session = repo.to_session(row)
    session.outcome = change.outcome.value
    if change.status is Status.COMPLETED:
        session.status, session.awaiting = Status.COMPLETED, None
    repo.write_session(db, session, now, row)
    kind, money = change.kind, change.money
    store.put_outcome(
        db,
        row.id,
        outcome=change.outcome.value,
        type_label=kind.label if kind else None,
        type_description=kind.description if kind else None,
        maps_to=kind.maps_to.value if kind else None,
        client_rule=kind.client.describe() if kind else None,
        coach_rule=kind.coach.describe() if kind else None,
        service=change.service,
        currency=book.settings.outcomes.currency,
        fee=change.fee,
        wage_rate=change.wage_rate,
        cost=money.cost if money else None,
        wage=money.wage if money else None,
        cost_overridden=req.cost is not None,
        wage_overridden=req.wage is not None,
        recorded_at=now,
        recorded_by=req.by.value,
    )
    details = change.as_json(book.settings.outcomes.currency)
    details.pop("id")
    overrides = {}
    if req.cost is not None and change.computed:
        overrides["cost"] = {"computed": str(change.computed.cost), "given": str(req.cost)}
    if req.wage is not None and change.computed:
        overrides["wage"] = {"computed": str(change.computed.wage), "given": str(req.wage)}
    details["overrides"] = overrides
    repo.audit(db, now, "session", row.id, "outcome", req.by, book.origin, details)
    action = (
        "completed"
        if change.status is Status.COMPLETED and was is not Status.COMPLETED
        else ("outcome")
    )
    payload = {"uid": row.uid, "by": req.by.value, "outcome": change.outcome.value}
    repo.record_change(db, now, f"session.{action}", row.id, payload)
