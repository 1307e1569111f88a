"""libical's verdict through /work/shared/tools/validate-ics.sh: many files in one call,
or, for a check after every step of a state machine, one long-lived worker running the
same script's checks (``worker.py``) on objects sent over a pipe."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

TOOL = Path(os.environ.get("CALBRIDGE_VALIDATE_ICS", "/work/shared/tools/validate-ics.sh"))
#: The interpreter the tool runs its checks with (it needs Debian's python3-gi).
SYSTEM_PYTHON = "/usr/bin/python3"
WORKER = Path(__file__).with_name("worker.py")
#: Files per call of the tool (well below any command-line limit).
CHUNK = 2000


class ToolBroken(Exception):
    """The validator did not give a verdict (missing, libical not installable, a crash)."""


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def validate_files(files: Sequence[Path], *, caldav: bool) -> dict[Path, list[str]]:
    """Each file's problems (empty: valid), in as few calls of the tool as possible."""
    if not TOOL.exists():
        raise ToolBroken(f"{TOOL} is missing")
    verdict: dict[Path, list[str]] = {}
    for start in range(0, len(files), CHUNK):
        chunk = list(files[start : start + CHUNK])
        args = [str(TOOL), *(["--caldav"] if caldav else []), *map(str, chunk)]
        done = subprocess.run(args, capture_output=True, timeout=600, check=False)
        if done.returncode not in (0, 1):
            raise ToolBroken(f"{TOOL} exited {done.returncode}: {done.stderr.decode()[-2000:]}")
        verdict.update(_parse(chunk, done.stdout.decode()))
    return verdict


def _parse(files: list[Path], out: str) -> dict[Path, list[str]]:
    by_name = {str(f): f for f in files}
    problems: dict[Path, list[str]] = {}
    ok: set[Path] = set()
    for line in out.splitlines():
        name, _, rest = line.partition(": ")
        path = by_name.get(name)
        if path is None:
            raise ToolBroken(f"{TOOL} printed a line for no file given: {line}")
        if rest == "OK" or rest.startswith("OK ("):
            ok.add(path)
        else:
            problems.setdefault(path, []).append(rest)
    missing = set(files) - ok - problems.keys()
    if missing:
        raise ToolBroken(f"{TOOL} said nothing about {sorted(map(str, missing))[:3]}")
    return {f: problems.get(f, []) for f in files}


def problems_of(data: bytes, *, caldav: bool) -> list[str]:
    """One object's problems, by the tool on stdin."""
    if not TOOL.exists():
        raise ToolBroken(f"{TOOL} is missing")
    args = [str(TOOL), *(["--caldav"] if caldav else []), "-"]
    done = subprocess.run(args, input=data, capture_output=True, timeout=120, check=False)
    if done.returncode not in (0, 1):
        raise ToolBroken(f"{TOOL} exited {done.returncode}: {done.stderr.decode()[-2000:]}")
    verdict = [line.partition(": ")[2] for line in done.stdout.decode().splitlines()]
    return [rest for rest in verdict if rest != "OK"]


class Worker:
    """validate-ics.py's checks in one process kept for the session: about a millisecond
    per object instead of a process start (0.1 s) per call."""

    def __init__(self) -> None:
        script = TOOL.with_suffix(".py")
        if not TOOL.exists() or not script.exists():
            raise ToolBroken(f"{TOOL} (and {script.name} beside it) is missing")
        self.proc = subprocess.Popen(
            [SYSTEM_PYTHON, str(WORKER), str(script)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None,
            text=True,
        )

    def problems(self, objects: Sequence[tuple[bytes, bool]]) -> list[list[str]]:
        """Each object's problems (``(data, caldav)`` pairs), in the order given."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        out: list[list[str]] = []
        for start in range(0, len(objects), 100):  # bounded: neither pipe fills up
            chunk = objects[start : start + 100]
            for data, caldav in chunk:
                request = {"caldav": caldav, "text": data.decode("utf-8", "replace")}
                self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
            for _ in chunk:
                line = self.proc.stdout.readline()
                if not line:
                    raise ToolBroken(f"the validator worker died (exit {self.proc.wait()})")
                out.append(json.loads(line))
        return out

    def close(self) -> None:
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()
        self.proc.wait(timeout=10)
