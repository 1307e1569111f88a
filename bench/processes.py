"""Child processes measured whole (start-up included), and vdirsyncer 0.21 in its own venv.

vdirsyncer is never a dependency of calbridge or its tests: the bench installs it once into
``bench/.venv-vdirsyncer`` (``python -m venv`` + ``pip install vdirsyncer==0.21.0``; the
folder is in .gitignore) and runs it from there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
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


#: Started by ``measured``: forks and execs the command, waits for it, and writes its own
#: rusage and wall time (from just before the fork) as JSON to the file named first.
_LAUNCH = """
import json, os, sys, time
t0 = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, u = os.wait4(pid, 0)
wall = time.perf_counter() - t0
code = os.waitstatus_to_exitcode(status)
cpu = u.ru_utime + u.ru_stime
with open(sys.argv[1], "w") as out:
    json.dump({"wall": wall, "cpu": cpu, "maxrss_kb": u.ru_maxrss, "code": code}, out)
"""


def measured(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> Proc:
    """Run ``argv`` to its end; its own rusage, so no other child is counted.

    Started from a small launcher (an isolated interpreter without site, about 8 MB) that
    forks it: Linux keeps a process's peak RSS across exec, and a child forked (or vforked,
    as subprocess does) straight from this process would report this process's resident
    size, the bench's book and bodies, as its own peak whenever that is the larger."""
    log = cwd / "child-output.txt"
    usage_file = cwd / "child-usage.json"
    usage_file.unlink(missing_ok=True)
    launcher = [sys.executable, "-I", "-S", "-c", _LAUNCH, str(usage_file), *argv]
    with log.open("wb") as out:
        launched = subprocess.run(launcher, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    text = log.read_text(encoding="utf-8", errors="replace")
    if launched.returncode != 0 or not usage_file.exists():
        raise RuntimeError(f"launching {' '.join(argv)} failed:\n{text[-3000:]}")
    usage = json.loads(usage_file.read_text(encoding="utf-8"))
    if usage["code"] != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {usage['code']}:\n{text[-3000:]}")
    return Proc(usage["wall"], usage["cpu"], usage["maxrss_kb"] / 1024, text)


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
