"""A sender process the crash tests kill: at checkpoint STAGE of the Nth message it
writes MARKER and waits to be killed (SIGKILL from the test); CHANNEL: mail or sms.
``kill_at`` runs it from a test."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from calbridge.book import Book
from calbridge.config import load_config
from calbridge.mail import sender
from calbridge.service import wiring


def main() -> None:
    config, stage, nth, now, marker, channel = sys.argv[1:7]
    seen = {"count": 0}

    def checkpoint(at: str, message_id: str) -> None:
        if at != stage:
            return
        seen["count"] += 1
        if seen["count"] == int(nth):
            Path(marker).write_text(message_id, encoding="utf-8")
            time.sleep(120)  # the test kills us here

    sender.checkpoint = checkpoint
    wiring.install()
    book = Book.open(load_config(config), origin="kill-test")
    when = datetime.fromisoformat(now)
    asyncio.run(sender.send_due(book, owner="doomed", now=when, channel=channel))


def kill_at(config: Path, stage: str, nth: int, now: datetime, folder: Path, channel: str) -> str:
    """Run a sender, SIGKILL it at ``stage`` of the ``nth`` message; returns its id."""
    marker = folder / f"marker-{stage}"
    args = [str(config), stage, str(nth), now.isoformat(), str(marker), channel]
    child = subprocess.Popen(
        [sys.executable, __file__, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            if child.poll() is not None:
                _out, err = child.communicate()
                raise AssertionError(f"the child ended early: {err.decode()[-2000:]}")
            assert time.monotonic() < deadline, "the child never reached the checkpoint"
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        assert child.stdout is not None and child.stderr is not None
        child.stdout.close()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    return marker.read_text(encoding="utf-8")


if __name__ == "__main__":
    main()
