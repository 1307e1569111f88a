"""Child processes measured whole (start-up included), and vdirsyncer 0.21 in its own venv.

vdirsyncer is never a dependency of calbridge or its tests: the bench installs it once into
``bench/.venv-vdirsyncer`` (``python -m venv`` + ``pip install vdirsyncer==0.21.0``; the
folder is in .gitignore) and runs it from there.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
VDIRSYNCER_ENV = HERE / ".venv-vdirsyncer"
VDIRSYNCER_VERSION = "0.21.0"


@dataclass(frozen=True)
class Proc:
    wall_s: float
    cpu_s: float  # user + system of the child itself, start-up included
    peak_mb: float  # its maximum resident set size
    output: str


def measured(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> Proc:
    """Run ``argv`` to its end; its own rusage (os.wait4), so no other child is counted."""
    log = cwd / "child-output.txt"
    with log.open("wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    text = log.read_text(encoding="utf-8", errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}:\n{text[-3000:]}")
    return Proc(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, text)


def bytecode() -> None:
    """calbridge's modules compiled once, as an installed package has them (pip compiles
    vdirsyncer's at install): with PYTHONDONTWRITEBYTECODE set, every `calbridge sync`
    would otherwise compile each module it imports from source at start-up."""
    import calbridge

    package = Path(calbridge.__file__).parent
    argv = [sys.executable, "-m", "compileall", "-q", str(package)]
    subprocess.run(argv, check=True, env={k: v for k, v in os.environ.items() if "PYTHON" not in k})


def vdirsyncer_bin() -> Path:
    """The bench's own vdirsyncer 0.21, installed on first use."""
    exe = VDIRSYNCER_ENV / "bin" / "vdirsyncer"
    if exe.exists():
        return exe
    print(f"installing vdirsyncer {VDIRSYNCER_VERSION} into {VDIRSYNCER_ENV}", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", str(VDIRSYNCER_ENV)], check=True)
    pip = [str(VDIRSYNCER_ENV / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, f"vdirsyncer=={VDIRSYNCER_VERSION}"], check=True)
    return exe


VDIRSYNCER_CONFIG = """\
[general]
status_path = "{status}"

[pair bench]
a = "bench_local"
b = "bench_remote"
collections = null
conflict_resolution = "b wins"

[storage bench_local]
type = "filesystem"
path = "{folder}"
fileext = ".ics"

[storage bench_remote]
type = "caldav"
url = "{url}"
{auth}"""


class Vdirsyncer:
    """One vdirsyncer pair: a folder of .ics files and a CalDAV collection."""

    def __init__(self, home: Path, folder: Path, url: str, auth: tuple[str, str] | None) -> None:
        home.mkdir(parents=True, exist_ok=True)
        self.home = home
        self.config = home / "config"
        login = f'username = "{auth[0]}"\npassword = "{auth[1]}"\n' if auth else ""
        text = VDIRSYNCER_CONFIG.format(status=home / "status", folder=folder, url=url, auth=login)
        self.config.write_text(text, encoding="utf-8")
        self.env = {**os.environ, "VDIRSYNCER_CONFIG": str(self.config)}
        self.env.pop("PYTHONPATH", None)

    def sync(self) -> Proc:
        return measured([str(vdirsyncer_bin()), "sync"], self.home, self.env)

    def discover(self) -> Proc:
        return measured([str(vdirsyncer_bin()), "discover"], self.home, self.env)
