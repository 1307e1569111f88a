"""The push case of bench/compare_bench.py alone: `--case push`.

Run: .venv/bin/python bench/sync_bench.py --compare --case push [--events N] [--rounds N]
     [--servers radicale,xandikos]

Each round pushes the same N bodies to a new calendar with `calbridge sync --coach push`
in a new interpreter, as cron runs it (compare_bench.Bench.cron); printed: the medians of
its wall time, CPU and peak memory (max RSS), the figure issue 14 bounds at 90 MB.
"""

from __future__ import annotations

from typing import Any

import sync_bench as sb
from compare_bench import Bench, check, prepare


def push_only(bench: Bench, count: int, rounds: int) -> dict[str, Any]:
    bodies, _ = prepare(bench, count)
    pushes: list[dict[str, Any]] = []
    for rnd in range(rounds):
        url = sb.new_calendar(bench.server, f"push-{rnd}")
        sb.reset_status(bench.book, "push")
        pushes.append(bench.cron(url))
        check("push", pushes[-1], {"create": len(bodies)})
        sb.progress(f"{bench.server.name} push round {rnd + 1}: {pushes[-1]['peak_mb']:.0f} MB")
    return {"events": count, "cron": pushes}


def print_push(result: dict[str, Any]) -> None:
    from compare_table import med

    for name, got in result["servers"].items():
        c = got["cron"]
        peak = med(c, "peak_mb")
        print(
            f"push of {got['events']} as `calbridge sync`, {name}: {med(c, 'wall_s'):.2f} s wall,"
            f" {med(c, 'cpu_s'):.2f} s CPU, peak memory {peak:.1f} MB"
            f" (<= 90: {'met' if peak <= 90 else 'MISSED'}); rounds:"
            f" {[round(p['peak_mb'], 1) for p in c]} MB"
        )
    print(f"\ntotal {result['total_s']:.0f} s")
