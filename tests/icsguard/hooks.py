"""Where calbridge hands an iCalendar object to the world, wrapped to tell a sink.

The points wrapped (the only ones calbridge writes, publishes or mails through):

- a sync pass's store (``CalendarSync.store``): every ``create`` and ``update`` body is
  a stored object (kind ``vdir``, ``caldav`` or ``memory``, after the store's class);
- ``ical.publish.render_feed``: every published feed (kind ``feed``);
- ``mail.outbox.enqueue`` (every message queued) and the two transports' ``send``
  (every message sent by SMTP or written to the mail folder): each ``text/calendar``
  part and ``.ics`` attachment (kind ``mail``).

What a test writes into a calendar itself (the coach's app) goes through stores the test
holds, not a sync pass's, and is never recorded. No pytest here: the same module runs in
the CLI and daemon processes the tests start (``site/sitecustomize.py``), where modules
are patched as they are imported, and in the test process, where they are patched now.
"""

from __future__ import annotations

import base64
import functools
import importlib.abc
import importlib.machinery
import json
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import Message
from pathlib import Path
from types import ModuleType
from typing import Any

#: The folder the processes the tests start dump their objects to (``<pid>.jsonl``).
DIR_ENV = "ICSGUARD_DIR"
#: Kinds validated as CalDAV calendar object resources (``--caldav``).
STORED = frozenset({"vdir", "caldav", "memory"})

Sink = Callable[[str, bytes, str], None]  # kind, data, where it came from
#: Where records go: to the last sink that takes the kind (None: every kind), only.
_sinks: list[tuple[Sink, frozenset[str] | None]] = []


def record(kind: str, data: bytes, where: str) -> None:
    for sink, kinds in reversed(_sinks):
        if kinds is None or kind in kinds:
            sink(kind, bytes(data), where)
            return


@contextmanager
def claimed(sink: Sink, kinds: frozenset[str]) -> Iterator[None]:
    """Send the records of ``kinds`` to ``sink`` while the block runs (to no one else)."""
    entry = (sink, kinds)
    _sinks.append(entry)
    try:
        yield
    finally:
        _sinks.remove(entry)


def set_sink(sink: Sink) -> None:
    """The sink of last resort (the session's collector, or a process's dump file)."""
    _sinks.insert(0, (sink, None))


# --- the wrapped points --------------------------------------------------------------------


def store_kind(store: object) -> str:
    names = [cls.__name__ for cls in type(store).__mro__]
    for name, kind in (("VdirStore", "vdir"), ("CalDAVStore", "caldav"), ("MemoryStore", "memory")):
        if name in names:
            return kind
    return names[0].lower()


class RecordingStore:
    """A sync pass's view of its store: each body it writes is recorded first."""

    def __init__(self, store: Any) -> None:
        self.inner = store
        self.kind = store_kind(store)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def create(self, name: str, data: bytes) -> Any:
        record(self.kind, data, f"{self.kind} create {name}")
        return self.inner.create(name, data)

    def update(self, href: str, data: bytes, etag: str) -> Any:
        record(self.kind, data, f"{self.kind} update {href}")
        return self.inner.update(href, data, etag)


def calendar_parts(message: Message) -> list[bytes]:
    """The iCalendar bodies of a message: text/calendar parts and .ics attachments."""
    found = []
    for part in message.walk():
        name = (part.get_filename() or "").lower()
        if part.get_content_type() == "text/calendar" or name.endswith(".ics"):
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                found.append(payload)
    return found


def _record_message(message: Message, how: str) -> None:
    where = f"mail {how} to {message.get('To', '?')}: {message.get('Subject', '')}"
    for data in calendar_parts(message):
        record("mail", data, where)


def _patch_engine(module: ModuleType) -> None:
    cls = module.CalendarSync
    original = cls.__init__

    @functools.wraps(original)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if not isinstance(self.store, RecordingStore):
            self.store = RecordingStore(self.store)

    cls.__init__ = __init__


def _patch_publish(module: ModuleType) -> None:
    original = module.render_feed

    @functools.wraps(original)
    def render_feed(*args: Any, **kwargs: Any) -> bytes:
        data: bytes = original(*args, **kwargs)
        name = args[2] if len(args) > 2 else kwargs.get("name", "?")
        record("feed", data, f"feed {name!r}")
        return data

    _replace(module, "render_feed", original, render_feed)


def _patch_outbox(module: ModuleType) -> None:
    original = module.enqueue

    @functools.wraps(original)
    def enqueue(db: Any, message: Message, *args: Any, **kwargs: Any) -> str:
        _record_message(message, f"queued ({kwargs.get('kind', '?')})")
        result: str = original(db, message, *args, **kwargs)
        return result

    _replace(module, "enqueue", original, enqueue)


def _patch_transport(module: ModuleType) -> None:
    for cls, how in ((module.FolderTransport, "written"), (module.SmtpTransport, "sent")):
        original = cls.send

        async def send(
            self: Any,
            sender: str,
            recipient: str,
            message_id: str,
            raw: bytes,
            *,
            _original: Any = original,
            _how: str = how,
        ) -> None:
            _record_message(message_from_bytes(raw, policy=policy.default), _how)
            await _original(self, sender, recipient, message_id, raw)

        cls.send = functools.wraps(original)(send)


PATCHES: dict[str, Callable[[ModuleType], None]] = {
    "calbridge.sync.engine": _patch_engine,
    "calbridge.ical.publish": _patch_publish,
    "calbridge.mail.outbox": _patch_outbox,
    "calbridge.mail.transport": _patch_transport,
}


def _replace(module: ModuleType, name: str, old: object, new: object) -> None:
    """Set ``module.name`` and every loaded module's binding of the same object."""
    for other in list(sys.modules.values()):
        if getattr(other, name, None) is old:
            setattr(other, name, new)
    setattr(module, name, new)


# --- installing ----------------------------------------------------------------------------

_done: set[str] = set()
_lock = threading.Lock()


def install() -> None:
    """Patch every point: loaded modules now, the others as soon as they are imported."""
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
    for name in PATCHES:
        module = sys.modules.get(name)
        if module is not None:
            _apply(name, module)


def _apply(name: str, module: ModuleType) -> None:
    with _lock:
        if name in _done:
            return
        _done.add(name)
    PATCHES[name](module)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in PATCHES or fullname in _done:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _Loader(spec.loader, fullname)
                return spec
        return None


class _Loader(importlib.abc.Loader):
    def __init__(self, inner: Any, name: str) -> None:
        self.inner, self.name = inner, name

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        made: ModuleType | None = self.inner.create_module(spec)
        return made

    def exec_module(self, module: ModuleType) -> None:
        self.inner.exec_module(module)
        _apply(self.name, module)


# --- in the processes the tests start -------------------------------------------------------


class FileSink:
    """One JSON line per object in ``<folder>/<pid>.jsonl``, written as it happens (a
    process the test kills keeps what it wrote)."""

    def __init__(self, folder: str) -> None:
        self.path = Path(folder) / f"{os.getpid()}.jsonl"
        self.who = f"pid {os.getpid()}: {' '.join(sys.argv[1:])[:120]}"
        self.lock = threading.Lock()

    def __call__(self, kind: str, data: bytes, where: str) -> None:
        line = json.dumps(
            {
                "kind": kind,
                "where": f"{where} ({self.who})",
                "data": base64.b64encode(data).decode(),
            }
        )
        with self.lock, self.path.open("a", encoding="ascii") as out:
            out.write(line + "\n")


def read_dump(path: Path, offset: int) -> tuple[list[tuple[str, bytes, str]], int]:
    """The records after ``offset`` in a dump file (a line cut short by a kill is left)."""
    with path.open("rb") as f:
        f.seek(offset)
        chunk = f.read()
    end = chunk.rfind(b"\n") + 1
    found = []
    for line in chunk[:end].splitlines():
        try:
            item = json.loads(line)
            found.append((item["kind"], base64.b64decode(item["data"]), item["where"]))
        except (ValueError, KeyError):
            continue
    return found, offset + end


def in_subprocess() -> None:
    """Called by sitecustomize: dump this process's objects where the session looks."""
    folder = os.environ.get(DIR_ENV)
    if folder and Path(folder).is_dir():
        set_sink(FileSink(folder))
        install()
