"""Validation as a test goes: the objects calbridge stores while a ``StepCheck`` is
active are validated in a batch whenever ``check`` is called (a state machine's
invariant, after each step), by one worker kept for the whole test (``check.Worker``)."""

from __future__ import annotations

import hashlib
import time
from types import TracebackType

from icsguard import hooks
from icsguard.check import ToolBroken, Worker, in_ci


class StepCheck:
    """``with StepCheck() as stored: ... stored.check()``. Without the validator (not in
    CI) nothing is claimed: the session's guard then reports the objects unvalidated."""

    def __init__(self) -> None:
        hooks.install()
        self.worker: Worker | None = None
        try:
            self.worker = Worker()
        except ToolBroken:
            if in_ci():
                raise
        self.pending: list[tuple[str, bytes, str]] = []
        self.done: set[str] = set()  # digests already validated
        self.validated = 0
        self.seconds = 0.0  # spent in check()
        self._claim = hooks.claimed(self._take, hooks.STORED)

    def _take(self, kind: str, data: bytes, where: str) -> None:
        self.pending.append((kind, data, where))

    def __enter__(self) -> StepCheck:
        if self.worker is not None:
            self._claim.__enter__()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.worker is not None:
            self._claim.__exit__(kind, exc, tb)
            self.worker.close()

    def check(self) -> None:
        """Every object stored since the last check passes libical (``--caldav``)."""
        started = time.perf_counter()
        try:
            self._check()
        finally:
            self.seconds += time.perf_counter() - started

    def _check(self) -> None:
        batch: dict[str, tuple[str, bytes, str]] = {}
        for kind, data, where in self.pending:
            digest = hashlib.sha256(data).hexdigest()
            if digest not in self.done:
                batch.setdefault(digest, (kind, data, where))
        self.pending.clear()
        if not batch or self.worker is None:
            return
        verdicts = self.worker.problems([(data, True) for _, data, _ in batch.values()])
        self.done.update(batch)
        self.validated += len(batch)
        bad = [
            f"{where}:\n  " + "\n  ".join(problems) + "\n" + data.decode("utf-8", "replace")
            for (_, data, where), problems in zip(batch.values(), verdicts, strict=True)
            if problems
        ]
        assert not bad, "calbridge stored objects libical refuses:\n" + "\n".join(bad)
