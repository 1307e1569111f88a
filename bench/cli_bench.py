"""Benchmark of the command line's start-up: how long an admin waits for each command.

Run: .venv/bin/python bench/cli_bench.py [--runs N] [--json] [--instructions]

Copies config.example.toml into a temporary folder (its relative state_dir, mail and
calendar folders land there), creates the book once, then times N runs of each command,
each a fresh interpreter (subprocess), beside `python -c pass` (the floor) and
`python -c "import sqlalchemy"` (what the book's library alone costs) in the same run.
Prints each median, its ratio to the floor, how many modules the command imported (one
more run each, untimed) and whether the target is met: under 0.3 s, the figure issue 13
gives for `vdirsyncer --help` on this machine. A busy machine makes every process slower,
so the same run also times the bench's own vdirsyncer 0.21 (bench/processes.py installs it
on first use; `--no-vdirsyncer` leaves it out) and says whether each command starts at
least as fast as `vdirsyncer --help` does in that run.

An installed calbridge has its bytecode written at install (pip compiles every module it
installs, as it did for vdirsyncer); the editable install of `make` has none until the
Makefile compiles src/, and where PYTHONDONTWRITEBYTECODE is set (as on the machines this
project is built on) Python never writes it, so every run would compile each module from
source. The bench compiles src/ first (`compileall`, into the usual __pycache__ folders),
so that it times what an admin's installed calbridge costs.

``--instructions`` also counts each command's instructions once under valgrind's callgrind
(valgrind must be installed): a count does not change with the machine's load, where wall
times on a busy machine do.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from processes import bytecode, vdirsyncer_bin

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 0.3
COMMANDS: dict[str, list[str]] = {
    "--help": ["--help"],
    "client list": ["client", "list"],
    "session list --json": ["session", "list", "--json"],
    "check-config": ["check-config"],
}


def _time(argv: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()}")
    return elapsed


#: Writes how many modules the process holds when it ends (on stderr).
_COUNT = (
    "import atexit, sys\n"
    "atexit.register(lambda: print(f'MODULES {len(sys.modules)}', file=sys.stderr))\n"
)
#: ... after running a command as `python -m calbridge` does.
_COUNT_CLI = _COUNT + (
    "import runpy\nsys.argv = ['calbridge', *sys.argv[1:]]\n"
    "runpy.run_module('calbridge', run_name='__main__', alter_sys=True)\n"
)


def _modules(argv: list[str], cwd: Path) -> int:
    """How many modules are in sys.modules when ``argv`` ends (imports it caused, and
    the interpreter's own start-up ones)."""
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    line = [x for x in done.stderr.splitlines() if x.startswith("MODULES ")]
    if done.returncode != 0 or not line:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()}")
    return int(line[-1].split()[1])


def _instructions(argv: list[str], cwd: Path) -> int:
    """Instructions the process ran (callgrind's count; the same for the same inputs)."""
    tool = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
    done = subprocess.run([*tool, *argv], cwd=cwd, capture_output=True, text=True, check=False)
    found = [x for x in done.stderr.split("\n") if "Collected :" in x]
    if done.returncode != 0 or not found:
        raise SystemExit(f"callgrind of {' '.join(argv)} failed: {done.stderr[-500:]}")
    return int(found[-1].split()[-1])


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--runs", type=int, default=10, help="runs per command (median)")
    cli.add_argument("--json", action="store_true", help="print the results as JSON")
    cli.add_argument("--no-vdirsyncer", action="store_true", help="no vdirsyncer reference")
    cli.add_argument("--instructions", action="store_true", help="count them (callgrind)")
    opts = cli.parse_args()
    refs = {} if opts.no_vdirsyncer else {"vdirsyncer --help": [str(vdirsyncer_bin()), "--help"]}
    bytecode()
    with tempfile.TemporaryDirectory(prefix="cli-bench-") as tmp:
        folder = Path(tmp)
        config = folder / "config.toml"
        shutil.copy(ROOT / "config.example.toml", config)
        base = [sys.executable, "-m", "calbridge", "--config", str(config)]
        _time([*base, "client", "list"], folder)  # creates and migrates the book once
        floors = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "import sqlalchemy": [sys.executable, "-c", "import sqlalchemy"],
        }
        argvs = {name: [*base, *args] for name, args in COMMANDS.items()}
        every = {**floors, **refs, **argvs}
        samples: dict[str, list[float]] = {name: [] for name in every}
        counted = [sys.executable, "-c", _COUNT_CLI, "--config", str(config)]
        modules = {name: _modules([*counted, *args], folder) for name, args in COMMANDS.items()}
        for name, (*_, code) in floors.items():
            modules[name] = _modules([sys.executable, "-c", _COUNT + code], folder)
        for name in refs:
            modules[name] = 0  # another interpreter: not counted
        counts = {n: _instructions(a, folder) for n, a in every.items() if opts.instructions}
        for _ in range(opts.runs):  # interleaved, so a busy moment hits every command alike
            for name, argv in every.items():
                samples[name].append(_time(argv, folder))
    floor = statistics.median(samples["python -c pass"])
    ref = statistics.median(samples["vdirsyncer --help"]) if refs else None
    results = []
    for name, times in samples.items():
        median = statistics.median(times)
        results.append(
            {
                "command": name,
                "median_s": round(median, 4),
                "ratio_to_floor": round(median / floor, 2),
                "modules": modules[name],
                "instructions": counts.get(name),
                "target_met": median < TARGET_S if name in COMMANDS else None,
                "as_fast_as_vdirsyncer": (
                    median <= ref if ref is not None and name in COMMANDS else None
                ),
            }
        )
    if opts.json:
        summary = {"floor_s": round(floor, 4), "vdirsyncer_help_s": ref, "target_s": TARGET_S}
        print(json.dumps(summary | {"results": results}))
        return
    print(f"median of {opts.runs} runs, fresh interpreter each; target: every one < {TARGET_S} s")
    for r in results:
        verdict = {True: "  target met", False: "  target MISSED", None: "  (reference)"}
        beside = {True: ", <= vdirsyncer --help", False: ", slower than vdirsyncer --help"}
        print(
            f"{r['command']:<22} {r['median_s']:7.3f} s  {r['ratio_to_floor']:6.1f}x floor"
            f"  {r['modules']:4d} modules{verdict[r['target_met']]}"
            f"{beside.get(r['as_fast_as_vdirsyncer'], '')}"
        )
    if counts:
        base = counts.get("vdirsyncer --help")
        for name, n in counts.items():
            than = f"  {n / base:5.2f}x vdirsyncer --help" if base else ""
            print(f"{name:<22} {n / 1e6:7.0f} M instructions{than}")
    missed = [r["command"] for r in results if r["target_met"] is False]
    print("target met by every command" if not missed else f"target missed: {', '.join(missed)}")
    if ref is not None:
        slower = [r["command"] for r in results if r["as_fast_as_vdirsyncer"] is False]
        print(
            f"vdirsyncer --help in this run: {ref:.3f} s; "
            + (f"slower than it: {', '.join(slower)}" if slower else "every command as fast")
        )


if __name__ == "__main__":
    main()
