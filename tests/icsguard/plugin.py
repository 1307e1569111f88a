"""The test run's guard: every iCalendar object calbridge stores, publishes or mails
during the run is validated with libical at the end, and the run fails on any invalid one.

Objects come from the points ``hooks.py`` wraps, in this process and in every CLI or
daemon process the tests start (``site/sitecustomize.py``, put on their PYTHONPATH, dumps
them into a folder swept after each test). Each distinct object is validated once, with
all the others in a call or two of validate-ics.sh (``--caldav`` for stored objects),
and reported with the test that made it and where it went.

``CALBRIDGE_TEST_VALIDATE=0`` turns the guard off (not in CI). Without the validator the
run says so and passes; in CI (``CI=true``) a missing or broken validator fails it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from icsguard import hooks
from icsguard.check import TOOL, ToolBroken, in_ci, validate_files

SWITCH = "CALBRIDGE_TEST_VALIDATE"
#: Set by an xdist controller to its pid: its workers' sitecustomize leaves them alone.
CONTROLLER_ENV = "ICSGUARD_XDIST_CONTROLLER"
SITE = Path(__file__).with_name("site")
#: Invalid objects listed in full in the summary (the rest are counted).
SHOWN = 20


@dataclass
class Seen:
    """One distinct object: its first origin, the first tests that made it."""

    kind: str
    data: bytes
    where: str
    tests: list[str]
    times: int = 1
    problems: list[str] = field(default_factory=list)
    saved: Path | None = None


class Collector:
    def __init__(self, dump: Path) -> None:
        self.dump = dump
        self.test = "(session set-up)"
        self.seen: dict[tuple[bool, str], Seen] = {}
        self.total = 0
        self._offsets: dict[Path, int] = {}
        self._lock = threading.Lock()

    def take(self, kind: str, data: bytes, where: str) -> None:
        key = (kind in hooks.STORED, hashlib.sha256(data).hexdigest())
        with self._lock:
            self.total += 1
            seen = self.seen.get(key)
            if seen is None:
                self.seen[key] = Seen(kind, data, where, [self.test])
                return
            seen.times += 1
            if self.test not in seen.tests and len(seen.tests) < 3:
                seen.tests.append(self.test)

    def sweep(self) -> None:
        """Take in what the processes started by the tests dumped since the last sweep."""
        for path in sorted(self.dump.glob("*.jsonl")):
            found, self._offsets[path] = hooks.read_dump(path, self._offsets.get(path, 0))
            for kind, data, where in found:
                self.take(kind, data, where)


def enabled() -> bool:
    return in_ci() or os.environ.get(SWITCH, "1").lower() not in ("0", "false", "no", "off")


class Guard:
    """In a plain run, and in each xdist worker: records, sweeps after every test.
    Workers hand what they saw to the controller (``workeroutput``), which validates."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.worker = hasattr(config, "workerinput")
        self.dump = Path(tempfile.mkdtemp(prefix="icsguard-"))
        self.collector = Collector(self.dump)
        self.invalid: list[Seen] = []
        self.broken: str | None = None
        self.seconds = 0.0
        self.kept: Path | None = None
        self._env = {k: os.environ.get(k) for k in (hooks.DIR_ENV, "PYTHONPATH")}
        path = os.environ.get("PYTHONPATH")
        os.environ["PYTHONPATH"] = os.pathsep.join([str(SITE), *([path] if path else [])])
        os.environ[hooks.DIR_ENV] = str(self.dump)
        self._env[CONTROLLER_ENV] = os.environ.get(CONTROLLER_ENV)
        if not self.worker and getattr(config.option, "numprocesses", None):
            os.environ[CONTROLLER_ENV] = str(os.getpid())
        hooks.set_sink(self.collector.take)
        hooks.install()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Iterator[None]:
        self.collector.test = item.nodeid
        yield
        self.collector.sweep()
        self.collector.test = "(between tests)"

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: object, error: object) -> None:
        """xdist controller: take in what a worker recorded."""
        output = getattr(node, "workeroutput", {}).get("icsguard", [])
        with self.collector._lock:
            for stored, digest, kind, data, where, tests, times in output:
                seen = self.collector.seen.get((stored, digest))
                self.collector.total += times
                if seen is None:
                    self.collector.seen[(stored, digest)] = Seen(kind, data, where, tests, times)
                else:
                    seen.times += times
                    seen.tests.extend(t for t in tests if len(seen.tests) < 3)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self.collector.sweep()
        if self.worker:
            self.config.workeroutput["icsguard"] = [  # type: ignore[attr-defined]
                (stored, digest, s.kind, s.data, s.where, s.tests, s.times)
                for (stored, digest), s in self.collector.seen.items()
            ]
            return
        started = time.perf_counter()
        try:
            self.invalid = self._verdict()
        except ToolBroken as exc:
            self.broken = str(exc)
        self.seconds = time.perf_counter() - started
        if self.invalid or (self.broken and (in_ci() or TOOL.exists())):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def _verdict(self) -> list[Seen]:
        folder = self.dump / "objects"
        folder.mkdir()
        files: dict[bool, dict[Path, Seen]] = {True: {}, False: {}}
        for n, ((stored, _), seen) in enumerate(sorted(self.collector.seen.items())):
            path = folder / f"{n:05d}-{seen.kind}.ics"
            path.write_bytes(seen.data)
            files[stored][path] = seen
        invalid = []
        for stored, group in files.items():
            for path, problems in validate_files(list(group), caldav=stored).items():
                if problems:
                    group[path].problems, group[path].saved = problems, path
                    invalid.append(group[path])
        if invalid:  # kept for a look: the dump folder goes at the end
            self.kept = Path(tempfile.mkdtemp(prefix="icsguard-invalid-"))
            for seen in invalid:
                assert seen.saved is not None
                seen.saved = Path(shutil.copy(seen.saved, self.kept))
        return invalid

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self.worker:
            return
        c = self.collector
        stored = sum(key[0] for key in c.seen)
        counts = (
            f"{c.total} iCalendar objects recorded, {len(c.seen)} distinct "
            f"({stored} stored, {len(c.seen) - stored} feeds and mail)"
        )
        write = terminalreporter.write_line
        terminalreporter.section("libical validation (tests/icsguard)")
        if self.broken:
            verdict = "FAILED" if in_ci() or TOOL.exists() else "skipped, not in CI"
            write(f"{counts}: NOT validated ({verdict}): {self.broken}", red=verdict == "FAILED")
            return
        write(f"{counts}, validated in {self.seconds:.2f} s: {len(self.invalid)} invalid")
        for seen in self.invalid[:SHOWN]:
            write(f"INVALID {seen.kind}: {seen.where}", red=True)
            tests = ", ".join(seen.tests) + (", ..." if seen.times > len(seen.tests) else "")
            write(f"    made {seen.times} time(s), by {tests}; saved as {seen.saved}")
            for problem in seen.problems:
                write(f"    {problem}")
        if len(self.invalid) > SHOWN:
            write(f"... and {len(self.invalid) - SHOWN} more invalid objects in {self.kept}")

    def pytest_unconfigure(self) -> None:
        for key, value in self._env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(self.dump, ignore_errors=True)


def pytest_configure(config: pytest.Config) -> None:
    if enabled():
        config.pluginmanager.register(Guard(config), "icsguard")
