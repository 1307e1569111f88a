"""The table of bench/compare_bench.py: issue 14's rows, its targets and met/missed."""

from __future__ import annotations

import statistics
from typing import Any

Row = dict[str, Any]


def med(rows: list[Row], key: str) -> float:
    return float(statistics.median(r[key] for r in rows))


def ratio(push: dict[str, list[Row]], a: str, b: str) -> float:
    """Median over rounds of a's wall time over b's in the same round."""
    pairs = zip(push[a], push[b], strict=True)
    return float(statistics.median(x["wall_s"] / y["wall_s"] for x, y in pairs))


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def _far(result: dict[str, Any], n: int, lines: list[str], targets: list[str]) -> None:
    far = result["push"]
    lat = result["latency_ms"]
    far_b = far["cron"]["wall_s"] / far["bare"]["wall_s"]
    far_v = far["cron"]["wall_s"] / far["vdirsyncer"]["wall_s"]
    lines.append(
        f"| push {n}, radicale {lat:.0f} ms away (1 round) | {far_b:.2f}x bare, {far_v:.2f}x"
        f" vdirsyncer ({far['cron']['wall_s']:.1f} s) | |"
        f" {far['vdirsyncer']['wall_s'] / far['bare']['wall_s']:.2f}x bare"
        f" | 1.00 ({far['bare']['wall_s']:.1f} s) |"
    )
    targets.append(f"{lat:.0f} ms away: {far_b:.2f}x bare (<= 0.6: {verdict(far_b <= 0.6)})")


def print_table(result: dict[str, Any]) -> None:
    n = result["events"]
    lines = [
        f"calbridge vs vdirsyncer 0.21 vs a bare PUT loop: {n} events, {result['rounds']}"
        " round(s) in alternating order, requests counted at the forwarder",
        "",
        "| case | calbridge sync (cron) | calbridge daemon pass | vdirsyncer | bare loop |",
        "|---|---|---|---|---|",
    ]
    targets: list[str] = []
    for name, got in result["servers"].items():
        p = got["push"]
        cron_b, cron_v = ratio(p, "cron", "bare"), ratio(p, "cron", "vdirsyncer")
        lines.append(
            f"| push {n} to {name} | {cron_b:.2f}x bare, {cron_v:.2f}x vdirsyncer"
            f" ({med(p['cron'], 'wall_s'):.1f} s) | {ratio(p, 'daemon', 'bare'):.2f}x bare,"
            f" {ratio(p, 'daemon', 'vdirsyncer'):.2f}x vdirsyncer"
            f" | {ratio(p, 'vdirsyncer', 'bare'):.2f}x bare"
            f" | 1.00 ({med(p['bare'], 'wall_s'):.1f} s) |"
        )
        targets.append(
            f"push as `calbridge sync` to {name}: {cron_b:.2f}x bare (<= 1.03:"
            f" {verdict(cron_b <= 1.03)}), {cron_v:.2f}x vdirsyncer (<= 0.97:"
            f" {verdict(cron_v <= 0.97)})"
        )
    if "far" in result:
        _far(result["far"], n, lines, targets)
    for name, got in result["servers"].items():
        p = got["push"]
        cron_cpu = med(p["cron"], "cpu_s")
        lines.append(
            f"| CPU per push, {name} | {cron_cpu:.2f} s ({cron_cpu / n * 1000:.2f} ms/event)"
            f" | {med(p['daemon'], 'cpu_s'):.2f} s | {med(p['vdirsyncer'], 'cpu_s'):.2f} s"
            f" | {med(p['bare'], 'cpu_s'):.2f} s |"
        )
        per = cron_cpu / n * 1000
        targets.append(
            f"calbridge CPU per pushed event on {name}, start-up included: {per:.2f} ms"
            f" (<= 2 ms: {verdict(per <= 2)})"
        )
    for name, got in result["servers"].items():
        i = got["idle"]
        lines.append(
            f"| idle pass, {n} events, {name} | daemon: {med(i['daemon'], 'requests'):.0f}"
            f" req, {med(i['daemon'], 'kb'):.1f} KB, {med(i['daemon'], 'cpu_s') * 1000:.1f} ms"
            f" CPU; cron: {med(i['cron'], 'requests'):.0f} req,"
            f" {med(i['cron'], 'cpu_s') * 1000:.0f} ms CPU |"
            f" | {med(i['vdirsyncer'], 'requests'):.0f} req,"
            f" {med(i['vdirsyncer'], 'kb'):.1f} KB, {med(i['vdirsyncer'], 'cpu_s') * 1000:.0f}"
            " ms CPU | |"
        )
        reqs, cpu = med(i["daemon"], "requests"), med(i["daemon"], "cpu_s") * 1000
        targets.append(
            f"idle daemon pass on {name} ({n} events; the target is at 10,000): {reqs:.0f}"
            f" request(s), {cpu:.1f} ms CPU (1 request, <= 5 ms:"
            f" {verdict(reqs <= 1 and cpu <= 5)})"
        )
    for name, got in result["servers"].items():
        m = got["moved_passes"]
        k = got["moved"]
        d = m["daemon"]
        lines.append(
            f"| {k} moved of {n} (daemon), {name} | | {med(d, 'requests'):.0f} req"
            f" ({med(d, 'puts'):.0f} PUT), {med(d, 'cpu_s') * 1000:.0f} ms CPU"
            f" | {med(m['vdirsyncer'], 'requests'):.0f} req,"
            f" {med(m['vdirsyncer'], 'cpu_s') * 1000:.0f} ms CPU | |"
        )
        per = med(d, "cpu_s") * 1000 / k
        puts = med(d, "puts")
        others = med(d, "requests") - puts
        targets.append(
            f"moved on {name}: {per:.1f} ms CPU per imported event (<= 5: {verdict(per <= 5)});"
            f" {puts:.0f} write-back PUTs (none needed: {verdict(puts == 0)});"
            f" {others:.0f} requests besides writes (<= 3: {verdict(others <= 3)})"
        )
    mem = [
        (name, med(got["push"]["cron"], "peak_mb"), med(got["push"]["vdirsyncer"], "peak_mb"))
        for name, got in result["servers"].items()
    ]
    lines.append(
        "| peak memory during the push (max RSS) | "
        + ", ".join(f"{name} {c:.0f} MB" for name, c, _ in mem)
        + " | | "
        + ", ".join(f"{name} {v:.0f} MB" for name, _, v in mem)
        + " | |"
    )
    worst = max(c for _, c, _ in mem)
    targets.append(
        f"peak memory of `calbridge sync` during a push: {worst:.0f} MB"
        f" (<= 90 MB: {verdict(worst <= 90)})"
    )
    print("\n".join(lines))
    print("\nTargets (issue 14):")
    for line in targets:
        print(f"- {line}")
    print(f"\ntotal {result['total_s']:.0f} s")
