"""Human-readable text for what the CLI prints (JSON is the data itself)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any


def _hm(iso: str) -> str:
    return datetime.fromisoformat(iso).strftime("%H:%M")


def session_line(s: dict[str, Any]) -> str:
    start = datetime.fromisoformat(s["start"])
    who = ", ".join(s["clients"] + s.get("third_parties", [])) or "-"
    line = (
        f"#{s['id']:<5} {start:%a %Y-%m-%d %H:%M}-{_hm(s['end'])}  {s['coach']:<10} {who:<20}"
        f" {s['status']:<9} {s['kind']}"
    )
    if s.get("month_index"):
        line += f"  (session {s['month_index']} of {s['month_limit']} in {s['month']})"
    if s.get("series"):
        line += f"  [series {s['series']}]"
    return line


def sessions(items: Iterable[dict[str, Any]], empty: str = "no sessions") -> str:
    lines = [session_line(s) for s in items]
    return "\n".join(lines) if lines else empty


def session_detail(s: dict[str, Any]) -> str:
    keys = (
        "uid",
        "coach",
        "clients",
        "third_parties",
        "start",
        "end",
        "timezone",
        "status",
        "awaiting",
        "kind",
        "direct",
        "series",
        "note",
        "private_note",
        "remind",
        "created_by",
        "sequence",
        "cancel_reason",
        "outcome",
    )
    lines = [session_line(s)]
    for key in keys:
        value = s.get(key)
        if value not in (None, "", []):
            shown = ", ".join(value) if isinstance(value, list) else value
            lines.append(f"  {key:<14} {shown}")
    for entry in s.get("audit", []):
        lines.append(
            f"  audit          {entry['at']} {entry['action']} by {entry['actor']}"
            f" via {entry['origin']}"
        )
    return "\n".join(lines)


def week(items: list[dict[str, Any]], monday: date) -> str:
    lines = []
    for offset in range(7):
        day = monday + timedelta(days=offset)
        lines.append(f"{day:%a %Y-%m-%d}")
        todays = [s for s in items if datetime.fromisoformat(s["start"]).date() == day]
        for s in todays:
            who = ", ".join(s["clients"]) or s["kind"]
            lines.append(
                f"  {_hm(s['start'])}-{_hm(s['end'])}  #{s['id']} {s['coach']}: {who}"
                f" ({s['status']})"
            )
        if not todays:
            lines.append("  -")
    return "\n".join(lines)


def table(rows: list[dict[str, Any]], columns: list[str], empty: str = "none") -> str:
    if not rows:
        return empty
    widths = [max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns]
    head = "  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True))
    body = [
        "  ".join(str(r.get(c, "")).ljust(w) for c, w in zip(columns, widths, strict=True))
        for r in rows
    ]
    return "\n".join([head, *body])


def slots(data: dict[str, Any]) -> str:
    head = (
        f"free {data.get('duration_minutes', '')}-minute slots for {data['client']} with"
        f" {data['coach']} in {data['month']}:"
    )
    lines = [head]
    for slot in data["slots"]:
        start = datetime.fromisoformat(slot["start"])
        lines.append(f"  {start:%a %Y-%m-%d %H:%M}-{_hm(slot['end'])}")
    if not data["slots"]:
        lines.append("  none")
    return "\n".join(lines)


def planned_line(p: dict[str, Any]) -> str:
    """One session a dry run would touch: the action, the session, when, who, where."""
    what = f"#{p['session']}" if p["session"] is not None else p["uid"]
    when = f"{datetime.fromisoformat(p['start']):%a %Y-%m-%d %H:%M}" if p["start"] else "-"
    who = ", ".join(p["clients"]) or "-"
    return f"  {p['action']:<22} {what:<6} {when}  {who}  (calendar {p['calendar']})"


def sync_reports(reports: list[dict[str, Any]], busy: list[dict[str, Any]]) -> str:
    lines = []
    for b in busy:
        read = "unchanged" if b["blocks"] is None else f"{b['blocks']} busy block(s)"
        lines.append(f"{b['calendar']}: {read}")
        lines += (
            [f"  error: {b['error']} (keeping the busy time read before)"] if b["error"] else []
        )
        lines += [f"  skipped malformed: {s}" for s in b["skipped"]]
    for r in reports:
        counts: dict[str, int] = {}
        for action in r["actions"]:
            counts[action["action"]] = counts.get(action["action"], 0) + 1
        did = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "no changes"
        prefix = "would do" if r["dry_run"] else "did"
        lines.append(f"{r['calendar']}: {prefix} {did}")
        lines += [f"  error: {r['error']}"] if r["error"] else []
        lines += [planned_line(p) for p in r.get("planned", [])]
        lines += [f"  held back: {r['held_back']}"] if r["held_back"] else []
        lines += [f"  skipped malformed: {s}" for s in r["skipped"]]
        lines += [f"  reverted: {s}" for s in r["refused"]]
    return "\n".join(lines) or "no calendars configured"
