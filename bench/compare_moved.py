"""The moved case of bench/compare_bench.py alone: `--case moved [--profile PREFIX]`.

Run: .venv/bin/python bench/sync_bench.py --compare --case moved [--events N] [--rounds N]
     [--profile /tmp/moved]   (then: python -m pstats /tmp/moved-radicale.prof)
"""

from __future__ import annotations

from typing import Any

import sync_bench as sb
from compare_bench import Bench, check, members, move_ten, prepare


def moved_only(bench: Bench, count: int, rounds: int, moved: int, profile: str) -> dict[str, Any]:
    """The moved case alone (``--case moved``): one daemon push fills a calendar, then each
    round moves ``moved`` events and one daemon pass takes them in (vdirsyncer not run).
    ``profile``: a file prefix; the moved passes' cProfile stats are dumped there."""
    import cProfile

    prepare(bench, count)
    url = sb.new_calendar(bench.server, "moved")
    sb.reset_status(bench.book, "push")
    check("push", bench.daemon(url), {"create": count})
    check("settling pass", bench.daemon(url), {})
    hrefs = members(bench, url)
    step = max(1, len(hrefs) // (moved * rounds))
    profiler = cProfile.Profile() if profile else None
    passes: list[dict[str, Any]] = []
    for rnd in range(rounds):
        move_ten(bench, url, hrefs[::step][rnd * moved : (rnd + 1) * moved])
        if profiler is not None:
            profiler.enable()
        passes.append(bench.daemon(url))
        if profiler is not None:
            profiler.disable()
        check("moved pass", passes[-1], {"import": moved})
        check("settling pass", bench.daemon(url), {})
        sb.progress(f"{bench.server.name} moved round {rnd + 1}")
    if profiler is not None:
        profiler.dump_stats(f"{profile}-{bench.server.name}.prof")
    return {"events": count, "moved": moved, "daemon": passes}


def print_moved(result: dict[str, Any]) -> None:
    from compare_table import med

    for name, got in result["servers"].items():
        d, k = got["daemon"], got["moved"]
        puts = med(d, "puts")
        print(
            f"{k} moved of {got['events']} (daemon), {name}: {med(d, 'requests'):.0f} requests"
            f" ({puts:.0f} PUT), {med(d, 'cpu_s') * 1000:.0f} ms CPU,"
            f" {med(d, 'cpu_s') * 1000 / k:.1f} ms CPU per imported event"
            f" (<= 5: {'met' if med(d, 'cpu_s') * 1000 / k <= 5 else 'MISSED'})"
        )
    print(f"\ntotal {result['total_s']:.0f} s")
