"""The JSON shape of a session (PRODUCT: id, uid, coach, clients, start, end, ...), from the
session, its coach's zone and each client's months: one shape for the book's reads and the
plain reads of `session list` (store/plain_sessions.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from calbridge.core import limits
from calbridge.core.model import CLIENT_KINDS, Session
from calbridge.core.timeutil import month_of

#: (client id, first month) -> what fills that client's months from it on.
Months = Callable[[str, str], limits.ClientMonths]


def session_json(session: Session, zone: ZoneInfo, months: Months) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": session.id,
        "uid": session.uid,
        "coach": session.coach_id,
        "clients": session.clients,
        "third_parties": session.third_parties,
        "start": session.start.astimezone(zone).isoformat(),
        "end": session.end.astimezone(zone).isoformat(),
        "timezone": session.tzid,
        "status": session.status.value,
        "awaiting": session.awaiting.value if session.awaiting else None,
        "kind": session.kind.value,
        "direct": session.direct,
        "service": session.service,
        "series": session.series_id,
        "recurrence_id": session.recurrence_id.isoformat() if session.recurrence_id else None,
        "note": session.note,
        "private_note": session.private_note,
        "remind": session.remind,
        "created_by": session.created_by.value,
        "sequence": session.sequence,
        "cancel_reason": session.cancel_reason,
        "outcome": session.outcome,
        "partstat": {p.party_id: p.partstat for p in session.participants},
    }
    if session.kind in CLIENT_KINDS:
        month = month_of(session.start, zone)
        positions = {}
        for client_id in session.clients:
            found = months(client_id, month)
            positions[client_id] = {
                "month": month,
                "index": limits.position(found, month, session.id or -1),
                "limit": found.limit,
            }
        first = positions[session.clients[0]] if session.clients else {}
        out["month"] = month
        out["month_index"] = first.get("index")
        out["month_limit"] = first.get("limit")
        out["month_positions"] = positions
    return out
