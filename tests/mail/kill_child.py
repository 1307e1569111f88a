"""A sender process the crash tests kill: at checkpoint STAGE of the Nth message it
writes MARKER and waits to be killed (SIGKILL from the test)."""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import datetime
from pathlib import Path

from calbridge.book import Book
from calbridge.config import load_config
from calbridge.mail import sender


def main() -> None:
    config, stage, nth, now, marker = sys.argv[1:6]
    seen = {"count": 0}

    def checkpoint(at: str, message_id: str) -> None:
        if at != stage:
            return
        seen["count"] += 1
        if seen["count"] == int(nth):
            Path(marker).write_text(message_id, encoding="utf-8")
            time.sleep(120)  # the test kills us here

    sender.checkpoint = checkpoint
    book = Book.open(load_config(config), origin="kill-test")
    asyncio.run(sender.send_due(book, owner="doomed", now=datetime.fromisoformat(now)))


if __name__ == "__main__":
    main()
