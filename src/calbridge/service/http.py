"""The daemon's HTTP parts: /healthz, /metrics and /status (installers for web.app)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from calbridge.service.metrics import CONTENT_TYPE
from calbridge.service.scheduler import Runtime, Scheduler
from calbridge.store import leases
from calbridge.sync.status import held_calendars

DB_TIMEOUT = 5.0


def installers(rt: Runtime, scheduler: Scheduler) -> list[Any]:
    async def healthz(_: web.Request) -> web.Response:
        reasons = []
        stalled = time.monotonic() - scheduler.last_tick
        limit = max(30.0, 10 * rt.settings.service.poll)
        if stalled > limit:
            reasons.append(f"scheduler loop stalled for {stalled:.0f}s")
        held: dict[str, str] = {}

        def check() -> None:
            scheduler.ping_database()
            with rt.book.transaction() as db:
                held.update(held_calendars(db))

        try:
            await asyncio.wait_for(asyncio.to_thread(check), DB_TIMEOUT)
        except TimeoutError:
            reasons.append(f"database did not answer within {DB_TIMEOUT:.0f}s")
        except Exception as exc:
            first = str(getattr(exc, "orig", exc)).strip().splitlines()
            reasons.append(f"database unreachable: {first[0] if first else type(exc).__name__}")
        body = {
            "status": "unhealthy" if reasons else "ok",
            "reasons": reasons,
            "instance": rt.owner,
            "syncing": sorted(scheduler.running),
            # Calendars the mass-deletion guard holds: the daemon is healthy, the admin
            # has a decision to make (calbridge sync --coach ID --restore | --accept-deletions).
            "held": held,
        }
        return web.json_response(body, status=503 if reasons else 200)

    async def metrics(_: web.Request) -> web.Response:
        ids = set(rt.coach_ids())

        def read() -> None:
            with rt.book.transaction() as db:
                rt.metrics.snapshot.read(db, leases.db_now(db), ids)

        # On failure the database gauges keep their last values; /healthz says why.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.to_thread(read), DB_TIMEOUT)
        rt.metrics.up.set(1)
        return web.Response(body=rt.metrics.render(), headers={"Content-Type": CONTENT_TYPE})

    async def status(_: web.Request) -> web.Response:
        def read() -> list[dict[str, Any]]:
            with rt.book.transaction() as db:
                now = leases.db_now(db)
                held = held_calendars(db)
                return [_row(r, now, held) for r in leases.all_rows(db)]

        try:
            rows = await asyncio.wait_for(asyncio.to_thread(read), DB_TIMEOUT)
        except Exception as exc:
            return web.json_response({"error": f"{type(exc).__name__}"}, status=503)
        ids = set(rt.coach_ids())
        return web.json_response(
            {"instance": rt.owner, "calendars": [r for r in rows if r["calendar"] in ids]}
        )

    def install(app: web.Application) -> None:
        app.router.add_get("/healthz", healthz)
        app.router.add_get("/metrics", metrics)
        app.router.add_get("/status", status)

    return [install]


def _row(row: Any, now: datetime, held: dict[str, str]) -> dict[str, Any]:
    def iso(value: datetime | None) -> str | None:
        return value.astimezone(UTC).isoformat() if value else None

    return {
        "calendar": row.calendar_id,
        "owner": row.owner if row.owner and row.expires_at > now else None,
        "last_owner": row.last_owner,
        "next_sync_at": iso(row.next_sync_at),
        "last_ok_at": iso(row.last_ok_at),
        "failures": row.failures,
        "last_error": row.last_error,
        "held": held.get(row.calendar_id),
    }
