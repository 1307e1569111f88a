"""libical's verdict on what the tests produce (/work/shared/tools/validate-ics.sh)."""

from __future__ import annotations

import pytest

from icsguard.check import TOOL, ToolBroken, in_ci, problems_of


def assert_valid(data: bytes, caldav: bool = False) -> None:
    """Fail on every problem libical reports (``caldav``: as a stored object)."""
    if not TOOL.exists() and not in_ci():
        pytest.skip(f"{TOOL} is not here")
    try:
        problems = problems_of(data, caldav=caldav)
    except ToolBroken as exc:
        pytest.fail(str(exc))
    assert not problems, "\n".join(problems) + "\n" + data.decode()
