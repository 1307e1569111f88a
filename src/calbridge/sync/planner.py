"""The sync planner: from (what the book wants, what was agreed, what the server has) to
a list of actions. Pure: no I/O, so every case is tested with plain values.

Three views of each resource, keyed by UID:

- ``Wanted``: what the book says the resource must contain now (only for UIDs whose book
  state changed since the last sync, plus first-time UIDs; ``data`` None means "must not
  exist"). UIDs the book did not touch are not listed at all.
- ``Known``: the status row, what both sides held after the last successful step.
- ``Remote``: what the server reported as changed (full listing: everything it has).
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass, replace
from enum import StrEnum


@dataclass(frozen=True)
class Wanted:
    uid: str
    data: bytes | None  # None: the book wants no resource (cancelled, declined, gone)
    fingerprint: str | None = None


@dataclass(frozen=True)
class Known:
    uid: str
    href: str
    etag: str  # empty: a create was sent and never confirmed
    fingerprint: str
    pending: str | None = None  # fingerprint of a write sent and not confirmed

    @property
    def confirmed(self) -> bool:
        return self.etag != ""


@dataclass(frozen=True)
class Remote:
    uid: str
    href: str
    etag: str
    fingerprint: str
    data: bytes


class Kind(StrEnum):
    CREATE = "create"  # PUT If-None-Match: *
    UPDATE = "update"  # PUT If-Match: push the book's version
    DELETE = "delete"  # DELETE If-Match
    IMPORT = "import"  # the calendar changed: apply it to the book through the rules
    CANCEL = "cancel"  # the calendar deleted it: cancel in the book
    ADOPT = "adopt"  # both sides already agree: record the new etag
    FORGET = "forget"  # gone on both sides: drop the status row


@dataclass(frozen=True)
class Action:
    kind: Kind
    uid: str
    href: str | None = None
    etag: str | None = None
    data: bytes | None = None
    fingerprint: str | None = None
    #: For an update that follows an adoption: the server's current version, agreed on
    #: (recorded with the write's intent, so a crash cannot lose the adoption).
    agreed: Remote | None = None


@dataclass(frozen=True)
class Plan:
    actions: list[Action]
    #: Set when the server looked suddenly empty: deletions were held back.
    held_back: str | None = None


class Decision(StrEnum):
    """What the admin decided for a calendar the mass-deletion guard holds."""

    RESTORE = "restore"  # write the book's version of every vanished event back
    ACCEPT = "accept"  # the vanishings were meant: cancel those sessions


@dataclass(frozen=True)
class Guard:
    """The mass-deletion guard (PRODUCT rule 8, ``[sync] guard_*``).

    A pass that would cancel more than ``most`` sessions, or more than ``share`` of the
    calendar's ``total`` events (and at least two), because their events vanished, cancels
    none of them: the calendar is held until the admin decides. ``held`` (the calendar is
    held already) holds every such cancellation, however few, until then.
    """

    most: int = 10
    share: float = 0.5
    total: int = 0
    held: bool = False
    decision: Decision | None = None

    def trips(self, lost: int, total: int) -> bool:
        if self.decision is not None or lost == 0:
            return False
        return self.held or lost > self.most or (lost >= 2 and lost > self.share * total)


def plan(
    wanted: Mapping[str, Wanted],
    known: Mapping[str, Known],
    remote: Mapping[str, Remote],
    deleted: Set[str],
    full: bool,
    guard: Guard | None = None,
) -> Plan:
    """Decide what to do; ``deleted`` holds UIDs the server reported gone.

    With ``full``, a known UID absent from ``remote`` is gone too. Vanished events the
    book still has are cancellations, unless the guard holds them (``Plan.held_back``)
    or the admin chose to restore them (then they are created again).
    """
    guard = guard or Guard()
    gone = set(deleted)
    if full:  # an unconfirmed create missing from a full listing may never have happened
        gone |= {uid for uid, k in known.items() if uid not in remote and k.confirmed}
    actions = []
    for uid in sorted(set(wanted) | set(known) | set(remote) | gone):
        action = _decide(wanted.get(uid), known.get(uid), remote.get(uid), uid in gone)
        if action is not None:
            actions.append(action)
    lost = [a for a in actions if a.kind is Kind.CANCEL]
    if guard.decision is Decision.RESTORE:
        return Plan([_restore(a, wanted.get(a.uid)) for a in actions])
    total = max(guard.total, len(known))
    if not guard.trips(len(lost), total):
        return Plan(actions)
    kept = [a for a in actions if a.kind is not Kind.CANCEL]
    return Plan(kept, _held_message(len(lost), total, guard.held))


def _restore(action: Action, want: Wanted | None) -> Action:
    """A vanished event the book still has, written back as the book has it."""
    if action.kind is not Kind.CANCEL or want is None or want.data is None:
        return action
    return Action(Kind.CREATE, action.uid, data=want.data, fingerprint=want.fingerprint)


def _held_message(lost: int, total: int, already: bool) -> str:
    what = f"{lost} of {total} events vanished from the calendar"
    if already:
        what = f"the calendar is held ({what})"
    return f"{what}; nothing was cancelled and no client was told"


def _decide(
    want: Wanted | None, had: Known | None, there: Remote | None, gone: bool
) -> Action | None:
    if had is None:
        return _first_time(want, there)
    if gone:
        return _remote_gone(want, had)
    if there is None and not had.confirmed:
        return _create_again(want, had)
    if there is None or there.etag == had.etag:
        return _local_only(want, had)
    return _remote_changed(want, had, there)


def _first_time(want: Wanted | None, there: Remote | None) -> Action | None:
    """No status yet: match by UID instead of duplicating (first sync, lost status)."""
    if want is None:
        return None  # not ours: leave the calendar alone
    if want.data is None:
        # Ours but no longer wanted (e.g. cancelled after a create whose reply was lost).
        return None if there is None else Action(Kind.DELETE, want.uid, there.href, there.etag)
    if there is None:
        return Action(Kind.CREATE, want.uid, data=want.data, fingerprint=want.fingerprint)
    if there.fingerprint == want.fingerprint:
        return _adopt(there, there.fingerprint)
    return Action(
        Kind.UPDATE, want.uid, there.href, there.etag, want.data, fingerprint=want.fingerprint
    )


def _adopt(there: Remote, fingerprint: str) -> Action:
    """Both sides agree: record the server's etag, and its content as the new base."""
    return Action(Kind.ADOPT, there.uid, there.href, there.etag, there.data or None, fingerprint)


def _create_again(want: Wanted | None, had: Known) -> Action | None:
    """A create that was sent but never confirmed, and the server does not list it: it
    never arrived (a server that reports the coach deleting it goes through ``gone``)."""
    if want is None or want.data is None:
        return Action(Kind.FORGET, had.uid)
    return Action(Kind.CREATE, had.uid, data=want.data, fingerprint=want.fingerprint)


def _remote_gone(want: Wanted | None, had: Known) -> Action:
    if want is not None and want.data is None:
        return Action(Kind.FORGET, had.uid)
    return Action(Kind.CANCEL, had.uid, had.href)


def _local_only(want: Wanted | None, had: Known) -> Action | None:
    if want is None or want.fingerprint == had.fingerprint:
        return None
    if want.data is None:
        return Action(Kind.DELETE, had.uid, had.href, had.etag)
    return Action(Kind.UPDATE, had.uid, had.href, had.etag, want.data, want.fingerprint)


def _remote_changed(want: Wanted | None, had: Known, there: Remote) -> Action | None:
    if want is not None and want.fingerprint == there.fingerprint:
        # Our own write whose status was never recorded (a crash in between): adopt it.
        return _adopt(there, there.fingerprint)
    if there.fingerprint in (had.fingerprint, had.pending):
        # Our last agreed version only re-serialized by the server (or a volatile property
        # moved), or our own unconfirmed write that arrived: no edit of the coach's.
        adopted = _adopt(there, there.fingerprint)
        follow = _local_only(want, Known(had.uid, there.href, there.etag, there.fingerprint))
        if follow is not None and follow.kind is Kind.UPDATE and there.data:
            return replace(follow, agreed=there)
        return follow or adopted
    if want is not None and want.data is None:
        return Action(Kind.DELETE, had.uid, there.href, there.etag)
    # A calendar edit. If the book changed too, the import goes through the rules on top of
    # the book's newest state and the result is pushed back, so neither edit is lost.
    return Action(Kind.IMPORT, had.uid, there.href, there.etag, there.data, there.fingerprint)
