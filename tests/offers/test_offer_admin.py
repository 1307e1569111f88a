"""offer list|show|cancel from the command line: links again, holds released, client told."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli_helpers import cli
from offers.test_offer_cli import config  # noqa: F401  (the fixture: session 1 planned)
from test_cli_admin import _run


def _offer(capsys: pytest.CaptureFixture[str], config: Path) -> dict:  # noqa: F811
    code, data, err = cli(
        capsys, config, "session", "offer", "1", "--at", "2030-12-04T10:00",
        "--at", "2030-12-05T14:00", "--json",
    )  # fmt: skip
    assert code == 0, err
    return dict(data)


def test_list_show_links_and_cancel(capsys: pytest.CaptureFixture[str], config: Path) -> None:  # noqa: F811
    code, out, _ = cli(capsys, config, "offer", "list")
    assert code == 0 and out.strip() == "no offers"
    made = _offer(capsys, config)
    code, data, _ = cli(capsys, config, "offer", "list", "--json")
    assert [(o["id"], o["session"], o["client"], o["state"]) for o in data] == [
        (1, 1, "ana", "open")
    ]
    assert [h["start"] for h in data[0]["holds"]] == [h["start"] for h in made["holds"]]
    code, data, _ = cli(capsys, config, "offer", "list", "--state", "expired", "--json")
    assert data == []
    code, data, _ = cli(capsys, config, "offer", "show", "1", "--json")
    assert code == 0 and data["links"] == made["links"]  # the very links that were mailed
    code, out, _ = cli(capsys, config, "offer", "show", "1")
    assert made["links"]["reject"] in out

    code, data, err = cli(capsys, config, "offer", "cancel", "1", "--reason", "Booked up", "--json")
    assert code == 0, err
    assert data["state"] == "cancelled" and all(h["released"] for h in data["holds"])
    code, data, _ = cli(capsys, config, "mail", "outbox", "--json")
    told = [m for m in data if m["kind"] == "offer-cancelled"]
    assert len(told) == 1 and told[0]["to"] == "ana@example.org"
    code, data, _ = cli(capsys, config, "offer", "show", "1", "--json")
    assert data["state"] == "cancelled" and data["links"] == {}
    code, data, err = cli(capsys, config, "offer", "cancel", "1", "--json")
    assert code == 1 and data["error"]["code"] == "offer_closed" and "cancelled" in err
    # the times are free again: a new offer of the same times is accepted
    again = _offer(capsys, config)
    assert again["offer"] == 2
    code, data, _ = cli(capsys, config, "session", "show", "1", "--json")
    assert data["start"].startswith("2030-12-03T10:00")  # the session kept its time


@pytest.mark.parametrize(
    "args",
    [["show", "9"], ["cancel", "9"], ["show", "x"], ["cancel", "0"], ["list", "--session", "-3"]],
)
def test_bad_offer_ids(
    capsys: pytest.CaptureFixture[str],
    config: Path,  # noqa: F811
    args: list[str],
) -> None:
    code, _, err = _run(capsys, config, "offer", *args)
    assert code == 2 and "Traceback" not in err and "offer" in err
