"""The CLI driven from the parser's own definition, with valid and hostile values.

Every subcommand and flag argparse knows gets values (dates, times, ids, numbers, unicode,
empty strings, huge values) and runs in-process against a seeded SQLite book with the
folder mail transport. Whatever comes in: the exit status is 0, 1 or 2, no traceback,
`--json` output parses when the command succeeded, and a failed command changed nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sqlite3
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from calbridge.cli import parser
from calbridge.cli.main import main
from cli_helpers import write_config
from conftest import base_config

# Long-running: `run` is the daemon and `serve` the web server; both only stop on a signal.
SKIPPED = {("run",), ("serve",)}
GLOBAL = {"-h", "--config", "-v", "--version"}

VALUES = st.one_of(
    st.sampled_from(["ana", "maia", "sam", "tp-one", "standard", "1", "2", "0", "-1"]),
    st.sampled_from(["2026-12-01", "2027-01-01", "9999-12-31", "0001-01-01", "2026-02-30"]),
    st.sampled_from(["2026-12-01T10:00", "2026-12-01T10:00+05:00", "2026-12", "2026-13"]),
    st.sampled_from(["", " ", "9" * 40, "-9" * 20, "1e309", "nan", "mon,wed", "monday"]),
    st.sampled_from(["Müller", "日本", "\u200b", "a@b.example", "+447700900123", "x" * 2000]),
    st.text(max_size=12),
)
NUMBERS = st.one_of(
    st.integers(-3, 200).map(str),
    st.sampled_from(["0", "-1", "9" * 30, "", "1.5", "١٢"]),
)


# Values that fit the seeded book, by the flag's dest, so commands also get past validation.
FITTING: dict[str, list[str]] = {
    "coach": ["maia", "sam"],
    "client": ["ana"],
    "third_party": ["tp-one"],
    "id": ["1", "2", "ana", "tp-one"],
    "start": ["2026-12-02T10:00", "2026-12-08T14:00", "2027-01-05T09:00"],
    "end": ["2026-12-02T11:00"],
    "duration": ["60", "30"],
    "from_": ["2026-12-01", "2027-01-01"],
    "to": ["2026-12-31", "2027-01-31"],
    "until": ["2027-02-01"],
    "month": ["2026-12", "2027-01"],
    "week": ["2026-12-02"],
    "program": ["standard", "intensive"],
    "email": ["new@example.org"],
    "name": ["Cara Müller", "Bo"],
    "count": ["2", "3"],
    "on": ["mon,wed", "tue"],
    "reason": ["holiday"],
    "add_client": ["ana"],
    "remove_client": ["ana"],
    "add_third_party": ["tp-one"],
    "remove_third_party": ["tp-one"],
    "note": ["Bring the workbook", ""],
    "between": ["09:00-12:00", "14:00-24:00"],
}


def _leaves(
    p: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    subs = [a for a in p._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, p
        return
    for name, sub in subs[0].choices.items():
        yield from _leaves(sub, (*path, name))


def _value(action: argparse.Action, fitting: bool) -> st.SearchStrategy[str]:
    if action.choices:
        valid = st.sampled_from([str(c) for c in action.choices])
        return valid if fitting else st.one_of(valid, VALUES)
    if fitting and action.dest in FITTING:
        return st.sampled_from(FITTING[action.dest])
    return NUMBERS if action.type is int else VALUES


def _argv(
    path: tuple[str, ...], p: argparse.ArgumentParser, fitting: bool
) -> st.SearchStrategy[list[str]]:
    parts: list[st.SearchStrategy[list[str]]] = []
    for action in p._actions:
        if isinstance(action, argparse._HelpAction) or GLOBAL & set(action.option_strings):
            continue
        if not action.option_strings:  # a positional: always there
            parts.append(_value(action, fitting).map(lambda v: [v]))
            continue
        flag = st.sampled_from(action.option_strings)
        if action.nargs == 0:
            given_ = flag.map(lambda f: [f])
        elif action.nargs == "?":
            given_ = st.tuples(flag, st.one_of(st.none(), _value(action, fitting))).map(
                lambda t: [t[0]] if t[1] is None else [t[0], t[1]]
            )
        else:
            given_ = st.tuples(flag, _value(action, fitting)).map(lambda t: [t[0], t[1]])
        weight = st.booleans() if not action.required else st.sampled_from([True] * 9 + [False])
        parts.append(st.tuples(weight, given_).map(lambda t: t[1] if t[0] else []))
    return st.tuples(*parts).map(lambda chunks: [*path, *(x for c in chunks for x in c)])


LEAVES = [(path, p) for path, p in _leaves(parser.build()) if path not in SKIPPED]
ARGV = st.one_of(*(_argv(path, p, fitting) for path, p in LEAVES for fitting in (True, False)))


CLOSURE_TO_END = ["closure", "add", "--from", "2026-12-01", "--to", "9999-12-31", "--reason", "r"]
CLOSURE_TO_END += ["--notify-only"]


def _dump(db: Path) -> dict[str, list[Any]]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {n: sorted(map(repr, conn.execute(f'SELECT * FROM "{n}"'))) for n in names}


#: The seeded session lies ahead (planning into the past is refused without --record).
NEXT_MONDAY = (date.today() + timedelta(days=7 - date.today().weekday())).isoformat() + "T10:00"


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("cli-property")
    data = base_config(f"sqlite:///{tmp / 'book.db'}")
    data["state_dir"] = str(tmp / "state")
    data["mail"] = {"transport": "folder", "folder": str(tmp / "mail")}
    config = write_config(tmp / "config.toml", data)
    seed = [
        ["client", "add", "--name", "Ana", "--email", "ana@example.org", "--program", "standard"],
        ["third-party", "add", "--name", "Tee Pee", "--email", "tp@example.org", "--id", "tp-one"],
        ["session", "plan", "--coach", "maia", "--client", "ana", "--start", NEXT_MONDAY],
    ]
    for args in seed:
        assert _run(config, args)[0] == 0, args
    return config


def _run(config: Path, args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(["--config", str(config), *args])
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else (0 if done.code is None else 2)
        else:
            code = 0
    return code, out.getvalue(), err.getvalue()


def test_every_command_is_generated() -> None:
    assert len(LEAVES) > 30
    assert (("client", "list")) in [path for path, _ in LEAVES]


@settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(argv=ARGV)
@example(argv=["session", "show", "9" * 30])  # OverflowError from SQLite
@example(argv=CLOSURE_TO_END)
@example(argv=["session", "list", "--from", "2027-01-01", "--to", "9999-12-31"])
@example(argv=["waitlist", "add", "--client", "ana", "--coach", "maia", "--between", "9" * 40])
@example(argv=["waitlist", "remove", "9" * 30])
def test_any_command_line_ends_cleanly(book: Path, argv: list[str]) -> None:
    db = book.parent / "book.db"
    before = _dump(db)
    code, out, err = _run(book, argv)
    assert code in (0, 1, 2), (argv, code, err)
    assert "Traceback" not in err, (argv, err)
    if code == 0 and "--json" in argv and out.strip():
        json.loads(out)
    if code != 0:
        assert _dump(db) == before, (argv, code, err)
