"""The reading half of a pass: what the book wants and what the calendar holds.

A mixin of ``engine.CalendarSync``. Every resource is read once and keyed by UID, with
what real calendars do in mind: a calbridge event whose UID the coach changed, or that
became unreadable, is still that session's (the importer puts it back); a second
resource carrying a session's UID is ignored with a warning; a session event that an
app stored under a new name is the same event, not a deletion; the coach's own events
are remembered as foreign and read as busy time (``sync.foreign``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from calbridge.book import Book
from calbridge.calendars.base import CalendarStore, Item, Listing
from calbridge.config.schema import Coach
from calbridge.events.spec import closure_uid
from calbridge.ical.bounds import Bounds
from calbridge.ical.build import fingerprint
from calbridge.ical.model import MalformedEvent
from calbridge.ical.resource import Resource, read_resource
from calbridge.sync import desired, foreign, recovery, status
from calbridge.sync.planner import Decision, Remote, Wanted
from calbridge.sync.report import Gathered, Report

log = logging.getLogger(__name__)


class CalendarReading:
    book: Book
    coach: Coach
    store: CalendarStore
    calendar_id: str
    known: tuple[status.State, int] | None
    decision: Decision | None
    dry_run: bool

    @property
    def bounds(self) -> Bounds:
        """The configured caps on what one resource may cost to read."""
        return self.book.settings.sync.bounds.limits()

    if TYPE_CHECKING:  # from CalendarEdits

        def with_foreign(self, want: Wanted, copy: bytes | None) -> Wanted: ...

    def _gather(self, report: Report) -> Gathered:
        uids: set[str] = set()
        closures: set[int] = set()
        if self.known is not None and status.book_unchanged(*self.known):
            state, upto = self.known
        else:
            with self.book.transaction() as db:
                state = status.load_state(db, self.calendar_id)
                upto = status.last_change(db)
                uids, closures = status.dirty_uids(db, self.coach.id, state, upto)
        listing = self.store.changes(state.token)
        rows: list[Any] = []
        wanted: dict[str, Wanted] = {}
        if uids or closures or listing.full or listing.changed or listing.deleted:
            with self.book.transaction() as db:
                rows = status.known_rows(
                    db,
                    self.calendar_id,
                    uids | {closure_uid(i) for i in closures},
                    set(listing.changed) | set(listing.deleted),
                    listing.full,
                )
                now, settings = self.book.clock(), self.book.settings
                wanted = desired.wanted_sessions(db, settings, self.coach, uids, now)
                wanted.update(desired.wanted_closures(db, settings, self.coach, closures, now))
                wanted.update(desired.wanted_holds(db, settings, self.coach, uids, now))
        by_href = {r.href: r for r in rows}
        stale = [h for h, e in listing.changed.items() if h not in by_href or by_href[h].etag != e]
        resources: dict[str, Resource] = {}
        remote = self._fetch(stale, by_href, report, resources)
        rows += self._elsewhere(remote, rows, listing, report)
        ours = [r for r in rows if not r.foreign]
        known = {r.uid: status.as_known(r) for r in ours}
        refs = {r.uid: (r.base, r.pending) for r in ours}
        present = set(listing.changed)
        deleted = {by_href[h].uid for h in listing.deleted if h in by_href}
        gone = [(r.uid, r.href) for r in rows if r.foreign and r.href in listing.deleted]
        if listing.full:
            deleted |= {k.uid for k in known.values() if k.href not in present and k.confirmed}
            deleted |= recovery.lost_creates(self.store, known, present, state.recovery)
            gone += [(r.uid, r.href) for r in rows if r.foreign and r.href not in present]
            for row in ours:  # unchanged members of a full listing are still there
                if row.href in present and row.uid not in remote:
                    remote[row.uid] = Remote(
                        row.uid, row.href, listing.changed[row.href], row.fingerprint, b""
                    )
        deleted -= {uid for uid, there in remote.items() if uid in known and there.data}
        total = len(known)
        if len(deleted) > 1 and not listing.full:  # the guard weighs them against it all
            with self.book.transaction() as db:
                total = status.count_ours(db, self.calendar_id)
        if self.decision is Decision.RESTORE and deleted:
            wanted.update(self._restorable(deleted - set(wanted)))
        for uid, want in list(wanted.items()):  # keep what the coach added (ical.merge)
            wanted[uid] = self.with_foreign(want, refs.get(uid, (None, None))[0])
        got = Gathered(listing, known, remote, deleted, wanted, upto, state, refs, total)
        got.foreign_gone = gone
        got.resources = resources
        return got

    def _restorable(self, uids: set[str]) -> dict[str, Wanted]:
        """The book's version of vanished events, to write them back (``--restore``)."""
        with self.book.transaction() as db:
            now, settings = self.book.clock(), self.book.settings
            found = desired.wanted_sessions(db, settings, self.coach, uids, now)
            for uid in uids - set(found):
                owned = desired.wanted_book_owned(db, settings, self.coach, uid, now)
                if owned is not None:
                    found[uid] = owned
        return found

    def _fetch(
        self,
        hrefs: list[str],
        by_href: dict[str, Any],
        report: Report,
        resources: dict[str, Resource],
    ) -> dict[str, Remote]:
        """The changed resources, each read once (kept in ``resources`` by UID)."""
        remote: dict[str, Remote] = {}
        for item in self.store.get_many(hrefs) if hrefs else []:
            row = by_href.get(item.href)
            mine = row.uid if row is not None and not row.foreign else None
            resource = read_resource(item.data, self.bounds)
            try:
                uid = resource.the_uid()
            except MalformedEvent as exc:
                if mine is None:
                    self._skip(item, f"malformed:{item.href}", str(exc), report)
                    continue
                uid = mine  # calbridge's event made unreadable: the importer reverts it
            if mine is not None and uid != mine:
                uid = mine  # the coach changed calbridge's UID: the importer reverts it
            if uid in remote:
                self._skip(item, f"duplicate:{item.href}", _twice(uid, remote[uid]), report)
                continue
            remote[uid] = Remote(uid, item.href, item.etag, resource.fingerprint, item.data)
            resources[uid] = resource
        return remote

    def _elsewhere(
        self, remote: dict[str, Remote], rows: list[Any], listing: Listing, report: Report
    ) -> list[Any]:
        """Status rows of fetched UIDs known at another href: the event was stored under a
        new name (its old one is gone: the same event), or it is a second copy (ignored).
        A create never confirmed whose name is not listed is the same event too: the server
        stored it under a name of its own (Graph names events by their id)."""
        loaded = {r.uid: r for r in rows if not r.foreign}
        missing = [uid for uid in remote if uid not in loaded]
        found = []
        if missing:
            with self.book.transaction() as db:
                found = list(status.known_rows(db, self.calendar_id, missing))
            found = [r for r in found if not r.foreign]
        for row in [*found, *(loaded[uid] for uid in remote if uid in loaded)]:
            there = remote[row.uid]
            left = row.href in listing.deleted or (listing.full and row.href not in listing.changed)
            left = left or (not row.etag and row.href not in listing.changed)
            if row.href != there.href and not left:
                del remote[row.uid]
                item = Item(there.href, there.etag, there.data)
                self._skip(item, f"duplicate:{there.href}", _twice(row.uid, row), report)
        return found

    def _skip(self, item: Item, key: str, why: str, report: Report) -> None:
        report.skipped.append(f"{item.href}: {why}")
        log.warning("calendar %s: skipping %s: %s", self.coach.id, item.href, why)
        self._remember_foreign([(key, item)], [], busy=False)

    def _remember_foreign(
        self, items: list[tuple[str, Item]], gone: list[tuple[str, str]], busy: bool = True
    ) -> None:
        """Events calbridge did not create: never fetched again while unchanged, never
        touched, and (``busy``) read as the coach's busy time; ``gone`` ones forgotten."""
        if self.dry_run or not (items or gone):
            return
        with self.book.transaction() as db:
            for uid, item in items:
                fp = fingerprint(item.data, self.bounds)
                status.remember(db, self.calendar_id, uid, item.href, item.etag, fp, foreign=True)
            for uid, _ in gone:
                status.forget(db, self.calendar_id, uid)
            changed = [item for _, item in items] if busy else []
            foreign.replace(self.book, db, self.coach, changed, [href for _, href in gone])


def _twice(uid: str, first: Any) -> str:
    return (
        f"a second resource with UID {uid} (calbridge's is {first.href}); it is ignored:"
        " delete the copy in the calendar app"
    )
