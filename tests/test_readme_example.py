"""README's worked example, run as written, command by command, on the example config:
every command ends as the README says (0, or the exit status a comment under it names),
prints no traceback, and what it says it made is there."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STATUS = re.compile(r"\(exit status (\d)\)")


def worked_example() -> list[tuple[str, int]]:
    """(command, expected exit status) of the README's first sh block after its heading."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## A worked example") :]
    opened = section.index("```sh\n") + len("```sh\n")
    block = section[opened : section.index("\n```", opened)]
    commands: list[tuple[str, int]] = []
    pending = ""
    for line in block.splitlines():
        if line.lstrip().startswith("#"):
            found = STATUS.search(line)
            if found and commands:
                commands[-1] = (commands[-1][0], int(found[1]))
            continue
        if not line.strip():
            continue
        code = line.split("  #", 1)[0].rstrip()  # a trailing comment after two spaces
        if code.endswith("\\"):
            pending += code[:-1].rstrip() + " "
            continue
        commands.append((pending + code, 0))
        pending = ""
    return commands


def test_the_worked_example_parses_into_the_commands_it_shows() -> None:
    commands = worked_example()
    assert commands[0][0].startswith("export CALBRIDGE_CONFIG=config.example.toml")
    assert sum(1 for _, status in commands if status == 1) == 1  # the full month
    assert any("--repeat weekly" in c and "--count 2" in c for c, _ in commands)
    assert not [c for c, _ in commands if c.endswith("\\")]


def test_the_worked_example_runs_as_written(tmp_path: Path) -> None:
    shutil.copy(ROOT / "config.example.toml", tmp_path / "config.example.toml")
    script = ["set -u"]
    for number, (command, _) in enumerate(worked_example()):
        script += [f"echo '>>> {number}' >&2", command, f'echo "<<< {number} $?" >&2']
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALBRIDGE_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    done = subprocess.run(
        ["bash", "-c", "\n".join(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    ended = dict(re.findall(r"^<<< (\d+) (\d+)$", done.stderr, re.MULTILINE))
    assert "Traceback" not in done.stderr + done.stdout
    for number, (command, expected) in enumerate(worked_example()):
        assert int(ended.get(str(number), -1)) == expected, (command, done.stderr[-3000:])
    assert "requested client  (session 1 of 2 in" in done.stdout
    assert "month" in done.stderr and "is full: 2 of 2 sessions" in done.stderr
    assert len(list((tmp_path / "calendars" / "maia").glob("*.ics"))) == 5
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 10
    assert "mail: 10 sent" in done.stdout
