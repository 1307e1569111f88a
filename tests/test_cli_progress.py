"""Long work shows a progress bar on a terminal and nothing in a pipe (issue 13): the CLI
runs as a subprocess on a pseudo-terminal, a first sync of 300 sessions to a folder
calendar, then a closure that cancels many of them; later syncs' updates and deletes."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from datetime import date, timedelta
from pathlib import Path

from book_helpers import plan
from cli_helpers import cli_process, write_config
from conftest import base_config

PER_COACH = 100
FIRST = date(2030, 12, 2)  # a Monday


def _seeded(db_url: str, tmp_path: Path) -> Path:
    """A book with PER_COACH team sessions for maia, sam and lee (8 a weekday), each coach
    with their own folder calendar, not yet synced."""
    from calbridge.book import Book
    from calbridge.config import load_config
    from calbridge.core.model import Kind

    data = base_config(db_url)
    data["coaches"].append({**data["coaches"][0], "id": "lee", "email": "lee@practice.example"})
    data["http"] = {"listen": "127.0.0.1:0"}
    for coach in data["coaches"]:
        coach["calendar"] = {"url": str(tmp_path / coach["id"])}
    config = write_config(tmp_path / "config.toml", data)
    book = Book.open(load_config(config))
    for coach in ("maia", "sam", "lee"):
        day, planned = FIRST, 0
        while planned < PER_COACH:
            for hour in range(9, 17) if day.weekday() < 5 else ():
                if planned < PER_COACH:
                    start = f"{day}T{hour:02}:00"
                    plan(book, start, (), coach=coach, kind=Kind.TEAM, note="Team",
                         override_availability=True)  # fmt: skip
                    planned += 1
            day += timedelta(days=1)
    book.engine.dispose()
    return config


def _on_terminal(config: Path, *args: str) -> tuple[int, str]:
    """Run ``calbridge --config CONFIG ARGS`` with stdin, stdout and stderr a terminal."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALBRIDGE_")}
    child = subprocess.Popen(
        [sys.executable, "-m", "calbridge", "--config", str(config), *args],
        stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True,
    )  # fmt: skip
    os.close(slave)
    seen, deadline = b"", time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1)
            if not ready:
                if child.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        return child.wait(timeout=30), seen.decode(errors="replace")
    finally:
        os.close(master)
        if child.poll() is None:
            child.kill()


def test_long_work_shows_a_bar_on_a_terminal_and_none_in_a_pipe(
    db_url: str, tmp_path: Path
) -> None:
    config = _seeded(db_url, tmp_path)
    code, screen = _on_terminal(config, "sync", "--coach", "maia")
    assert code == 0, screen
    assert "maia: creating events" in screen and f"/{PER_COACH}" in screen, screen
    assert "%|" in screen  # tqdm's bar
    assert f"maia: did {PER_COACH} create" in screen
    assert len(list((tmp_path / "maia").glob("*.ics"))) == PER_COACH
    done = cli_process(config, "sync", "--coach", "sam")
    assert done.returncode == 0, done.stderr
    assert f"sam: did {PER_COACH} create" in done.stdout
    assert "creating events" not in done.stderr and "%|" not in done.stderr, done.stderr
    assert len(list((tmp_path / "sam").glob("*.ics"))) == PER_COACH

    week = ["--from", str(FIRST), "--to", str(FIRST + timedelta(days=4)), "--cancel-only"]
    closure = ["closure", "add", *week, "--reason", "Holiday", "--coach"]
    code, screen = _on_terminal(config, *closure, "maia")
    assert code == 0, screen
    assert "cancelling sessions" in screen and "/40" in screen, screen
    done = cli_process(config, *closure, "sam")
    assert done.returncode == 0, done.stderr
    assert "cancelling" not in done.stderr and "%|" not in done.stderr, done.stderr

    # The daemon syncs lee's calendar for the first time: its log stays free of bars.
    code, screen = _on_terminal(config, "run", "--once")
    assert code == 0, screen
    assert len(list((tmp_path / "lee").glob("*.ics"))) == PER_COACH
    assert "daemon.started" in screen
    assert "creating events" not in screen and "%|" not in screen, screen


def test_a_bulk_complete_shows_a_bar_on_a_terminal_and_none_in_a_pipe(
    db_url: str, tmp_path: Path
) -> None:
    from calbridge.book import Book, parties
    from calbridge.config import load_config

    data = base_config(db_url) | {
        "services": {"coaching": {"fee": "80.00", "wage": "45.00"}},
        "outcomes": {"default_service": "coaching"},
    }
    config = write_config(tmp_path / "config.toml", data)
    book = Book.open(load_config(config))
    day = date(2026, 3, 2)  # sessions that happened, recorded: 4 a client, 6 clients
    for index in range(24):
        client = f"c{index % 6}"
        if index < 6:
            parties.add_client(
                book, f"Client {index}", f"{client}@example.org", "intensive", client
            )
        when = day + timedelta(days=index // 6 * 7 + index % 5)
        plan(book, f"{when}T{9 + index % 6:02}:00", (client,), record=True)
    book.engine.dispose()
    first = ["session", "complete", "--coach", "maia", "--type", "completed"]
    code, screen = _on_terminal(config, *first, "--from", "2026-03-01", "--to", "2026-03-31")
    assert code == 0, screen
    assert "saving outcomes" in screen and "/24" in screen and "%|" in screen, screen
    retype = ["session", "retype", "--coach", "maia", "--type", "completed"]
    done = cli_process(config, *retype, "--from", "2026-03-01", "--to", "2026-03-31")
    assert done.returncode == 0 and done.stdout.count("completed") >= 24, done.stderr
    assert "saving outcomes" not in done.stderr and "%|" not in done.stderr, done.stderr


def _sessions_of(config: Path, coach: str) -> list[int]:
    from sqlalchemy import select

    from calbridge.book import Book
    from calbridge.config import load_config
    from calbridge.store.tables import SessionRow

    book = Book.open(load_config(config))
    with book.transaction() as db:
        query = select(SessionRow.id).where(
            SessionRow.coach_id == coach, SessionRow.status != "cancelled"
        )
        found = sorted(db.scalars(query))
    book.engine.dispose()
    return found


def _change(config: Path, notes: list[int], cancels: list[int], room: str = "A") -> None:
    """New notes for ``notes`` (updates on the next sync), ``cancels`` cancelled (deletes)."""
    from calbridge.book import Book, planning, session_edit
    from calbridge.book.requests import FieldEdit
    from calbridge.config import load_config
    from calbridge.core.model import Actor

    book = Book.open(load_config(config))
    for session_id in notes:
        session_edit.edit(book, session_id, FieldEdit(note=f"Team, room {room}{session_id}"))
    for session_id in cancels:
        planning.cancel(book, session_id, Actor.ADMIN, None, False)
    book.engine.dispose()


def test_a_syncs_updates_and_deletes_show_a_bar_on_a_terminal_and_none_in_a_pipe(
    db_url: str, tmp_path: Path
) -> None:
    config = _seeded(db_url, tmp_path)
    for coach in ("maia", "sam", "lee"):
        assert cli_process(config, "sync", "--coach", coach).returncode == 0
    maia = _sessions_of(config, "maia")
    _change(config, maia, [])
    code, screen = _on_terminal(config, "sync", "--coach", "maia")
    assert code == 0, screen
    assert "maia: updating events" in screen and f"/{PER_COACH}" in screen, screen
    assert "%|" in screen and f"maia: did {PER_COACH} update" in screen, screen
    _change(config, maia[:50], maia[50:], room="B")
    code, screen = _on_terminal(config, "sync", "--coach", "maia")
    assert code == 0, screen
    assert "maia: updating and deleting events" in screen and "/100" in screen, screen
    assert len(list((tmp_path / "maia").glob("*.ics"))) == 50
    _change(config, [], maia[:50])
    code, screen = _on_terminal(config, "sync", "--coach", "maia")
    assert code == 0, screen
    assert "maia: deleting events" in screen and "/50" in screen and "%|" in screen, screen
    assert list((tmp_path / "maia").glob("*.ics")) == []

    sam = _sessions_of(config, "sam")
    _change(config, sam[:50], sam[50:])
    done = cli_process(config, "sync", "--coach", "sam")
    assert done.returncode == 0, done.stderr
    assert "events" not in done.stderr and "%|" not in done.stderr, done.stderr
    assert len(list((tmp_path / "sam").glob("*.ics"))) == 50

    # The daemon's pass over lee's changed calendar: its log stays free of bars.
    lee = _sessions_of(config, "lee")
    _change(config, lee[:50], lee[50:])
    code, screen = _on_terminal(config, "run", "--once")
    assert code == 0, screen
    assert len(list((tmp_path / "lee").glob("*.ics"))) == 50
    assert "daemon.started" in screen
    assert "updating" not in screen and "deleting" not in screen and "%|" not in screen, screen
