"""Running the real CLI in-process and as separate processes."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from calbridge.cli.main import run


def write_config(path: Path, data: dict[str, Any]) -> Path:
    """Write ``data`` as TOML (the subset our configs use)."""
    lines: list[str] = []

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return str(v)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + " }"
        return json.dumps(str(v))

    def table(prefix: str, d: dict[str, Any]) -> None:
        scalars = {
            k: v
            for k, v in d.items()
            if not isinstance(v, (dict, list))
            or (isinstance(v, dict) and k == "working_hours")
            or (isinstance(v, list) and not (v and isinstance(v[0], dict)))
        }
        if prefix:
            lines.append(f"[{prefix}]")
        lines.extend(f"{k} = {value(v)}" for k, v in scalars.items())
        for k, v in d.items():
            if k in scalars:
                continue
            name = f"{prefix}.{k}" if prefix else k
            if isinstance(v, dict):
                table(name, v)
            else:
                for item in v:
                    lines.append(f"[[{name}]]")
                    lines.extend(f"{ik} = {value(iv)}" for ik, iv in item.items())

    table("", data)
    path.write_text("\n".join(lines) + "\n")
    tomllib.loads(path.read_text())  # fail here, not in the code under test
    return path


def cli(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> tuple[int, Any, str]:
    """Run ``calbridge --config CONFIG ARGS``; returns (exit code, parsed JSON or text, stderr)."""
    code = run(["--config", str(config), *args])
    out, err = capsys.readouterr()
    data: Any = out
    if "--json" in args and out.strip():
        data = json.loads(out)
    return code, data, err


def cli_process(config: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "calbridge", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
