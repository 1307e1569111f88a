"""Benchmark of the command line's start-up: how long an admin waits for each command.

Run: .venv/bin/python bench/cli_bench.py [--runs N] [--json]

Copies config.example.toml into a temporary folder (its relative state_dir, mail and
calendar folders land there), creates the book once, then times N runs of each command,
each a fresh interpreter (subprocess), beside `python -c pass` (the floor) in the same run.
Prints each median, its ratio to the floor and whether the target (under 0.3 s) is met.
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


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--runs", type=int, default=10, help="runs per command (median)")
    cli.add_argument("--json", action="store_true", help="print the results as JSON")
    opts = cli.parse_args()
    with tempfile.TemporaryDirectory(prefix="cli-bench-") as tmp:
        folder = Path(tmp)
        config = folder / "config.toml"
        shutil.copy(ROOT / "config.example.toml", config)
        base = [sys.executable, "-m", "calbridge", "--config", str(config)]
        _time([*base, "client", "list"], folder)  # creates and migrates the book once
        medians = {"python -c pass": [sys.executable, "-c", "pass"]}
        argvs = {name: [*base, *args] for name, args in COMMANDS.items()}
        samples: dict[str, list[float]] = {name: [] for name in [*medians, *argvs]}
        every = {**medians, **argvs}
        for _ in range(opts.runs):  # interleaved, so a busy moment hits every command alike
            for name, argv in every.items():
                samples[name].append(_time(argv, folder))
    floor = statistics.median(samples["python -c pass"])
    results = []
    for name, times in samples.items():
        median = statistics.median(times)
        results.append(
            {
                "command": name,
                "median_s": round(median, 4),
                "ratio_to_floor": round(median / floor, 2),
                "target_met": median < TARGET_S,
            }
        )
    if opts.json:
        print(json.dumps({"floor_s": round(floor, 4), "target_s": TARGET_S, "results": results}))
        return
    print(f"median of {opts.runs} runs, fresh interpreter each; target: every one < {TARGET_S} s")
    for r in results:
        verdict = "met" if r["target_met"] else "MISSED"
        print(
            f"{r['command']:<22} {r['median_s']:7.3f} s  {r['ratio_to_floor']:6.1f}x floor"
            f"  target {verdict}"
        )
    missed = [r["command"] for r in results if not r["target_met"]]
    print("target met by every command" if not missed else f"target missed: {', '.join(missed)}")


if __name__ == "__main__":
    main()
