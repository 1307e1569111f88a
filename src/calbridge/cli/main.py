"""Entry point: the one place that turns errors into messages and exit statuses.

Imports stay light here: `--help` needs only the parser, and each command imports its
own handler module when it runs (cli/dispatch.py), so no command pays for another's.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from calbridge.cli import parser
from calbridge.cli.lazyparse import command_of
from calbridge.errors import CalbridgeError, ConfigError, Refused, UserError

if TYPE_CHECKING:
    from calbridge.cli.output import Output
    from calbridge.config import Settings


def _origin(settings: Settings) -> str:
    import getpass
    import socket

    label = settings.book.audit_origin
    where = f"cli:{getpass.getuser()}@{socket.gethostname()}"
    return f"{where} ({label})" if label else where


def _print(out: Output, as_json: bool) -> None:
    if as_json:
        print(json.dumps(out.data, indent=2, default=str))
    elif out.text:
        print(out.text)


def _check_config(args: argparse.Namespace) -> Output:
    from calbridge.cli.output import Output
    from calbridge.config import Settings, load_config
    from calbridge.config.folders import folder_problems, warnings
    from calbridge.config.load import find_config
    from calbridge.config.schema import describe

    settings = load_config(args.config)
    problems = folder_problems(settings)
    if problems:
        raise ConfigError(problems, str(find_config(args.config)))
    notes = warnings(settings)
    for note in notes:
        print(f"calbridge: warning: {note}", file=sys.stderr)
    programs = {k: v.monthly_limit for k, v in settings.programs.items()}
    data = {
        "ok": True,
        "coaches": [c.id for c in settings.coaches],
        "programs": programs,
        "database": settings.database_url.split("@")[-1],
        "keys": len(describe(Settings)),
        "warnings": notes,
    }
    text = f"configuration is valid: {len(settings.coaches)} coach(es), programs " + ", ".join(
        f"{k} ({v})" for k, v in programs.items()
    )
    return Output(data, text)


def _parse(argv: Sequence[str]) -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    """Parse with only the named command's flags built, else (a wrong guess) with all."""
    guess = command_of(argv)
    root = parser.build(guess, every=False)
    args = root.parse_args(argv)
    if args.command != guess:
        root = parser.build()
        args = root.parse_args(argv)
    return root, args


def run(argv: Sequence[str] | None = None) -> int:
    root, args = _parse(sys.argv[1:] if argv is None else list(argv))
    _numbers_fit(root, args)
    if args.command is None:
        root.print_help()
        return 0
    logging.basicConfig(
        level=logging.WARNING - 10 * min(args.verbose, 2),
        format="%(levelname)s %(name)s: %(message)s",
    )
    as_json = bool(getattr(args, "json", False))
    try:
        out = _check_config(args) if args.command == "check-config" else _command(args)
        _print(out, as_json)
        return out.status
    except Refused as exc:
        return _fail(exc, as_json, exc.as_json())
    except ConfigError as exc:
        details = [{"key": k, "message": m} for k, m in exc.problems]
        return _fail(
            exc, as_json, {"error": {"code": "config", "message": str(exc), "problems": details}}
        )
    except CalbridgeError as exc:
        return _fail(exc, as_json, {"error": {"code": "usage", "message": str(exc)}})
    except BrokenPipeError:
        raise
    except OverflowError as exc:  # a date past 9999-12-31 (--to 9999-12-31 plus a day)
        error = UserError(f"a date or number is out of range ({exc}): give a nearer one")
        return _fail(error, as_json, {"error": {"code": "usage", "message": str(error)}})
    except OSError as exc:
        # A file or folder the system refused (permissions, a file where a folder should be).
        where = f"{exc.filename}: " if exc.filename else ""
        error = UserError(f"{where}{exc.strerror or exc}")
        return _fail(error, as_json, {"error": {"code": "os", "message": str(error)}})


_BIGGEST = 2**63 - 1  # what a database integer holds


def _numbers_fit(root: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """A number no database column can hold (an id of 40 digits) is bad usage: exit 2."""
    for name, value in vars(args).items():
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > _BIGGEST:
            root.error(f"{name.rstrip('_').replace('_', '-')}: {value} is too large")


def _command(args: argparse.Namespace) -> Output:
    from calbridge.cli.dispatch import handler, without_book
    from calbridge.config import load_config

    action = getattr(args, "action", None)
    settings = load_config(args.config)
    quick = without_book(args.command, action)
    if quick is not None:
        done: Output | None = quick(settings, args)
        if done is not None:
            return done
    from calbridge.book import Book
    from calbridge.service import wiring

    wiring.install()
    run_it = handler(args.command, action)
    book = Book.open(settings, origin=_origin(settings))
    try:
        out: Output = run_it(book, args)
    finally:
        book.engine.dispose()
    return out


def _fail(exc: CalbridgeError, as_json: bool, payload: dict[str, Any]) -> int:
    print(f"calbridge: {exc}", file=sys.stderr)
    if as_json:
        print(json.dumps(payload, indent=2, default=str))
    return exc.exit_code


def main(argv: Sequence[str] | None = None) -> None:
    try:
        code = run(argv)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`calbridge agenda --all | head -1`): not an error of ours.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = 0
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)
