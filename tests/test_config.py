"""The configuration: the example loads and documents every key; mistakes are all reported."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from calbridge.config.load import load_config
from calbridge.config.schema import Settings, describe
from calbridge.errors import ConfigError
from cli_helpers import cli_process

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "config.example.toml"


def test_example_loads() -> None:
    settings = load_config(EXAMPLE)
    assert [c.id for c in settings.coaches] == ["maia", "sam"]
    assert settings.programs["standard"].monthly_limit == 2
    assert settings.state_dir == ROOT / "state"
    assert settings.coaches[0].calendar is not None
    assert settings.coaches[0].calendar.url == str(ROOT / "calendars" / "maia")


def test_example_mentions_every_key() -> None:
    text = EXAMPLE.read_text()
    mentioned = set(re.findall(r"^[#\s]*\[*([A-Za-z_.]+)\]*\s*=?", text, flags=re.M))
    mentioned |= set(re.findall(r"\b([a-z_]+)\s*=", text))
    mentioned |= {part for name in mentioned for part in name.split(".")}
    missing = []
    for path in describe(Settings):
        leaf = path.split(".")[-1]
        if leaf not in mentioned and path not in mentioned:
            missing.append(path)
    assert not missing, f"config.example.toml does not mention: {missing}"


def test_every_key_has_help() -> None:
    undocumented = [k for k, v in describe(Settings).items() if not v and "." in k]
    assert not undocumented


BROKEN = """
state_dir = "st"
[database]
urll = "sqlite:///x.db"
[programs.standard]
monthly_limit = -1
[mail]
port = "five"
transport = "pigeon"
[http]
listen = "nowhere"
[[coaches]]
id = "maia"
name = "Maia"
email = "not-an-address"
timezone = "Mars/Olympus"
working_hours = { mon = "9-5", funday = "10:00-11:00" }
"""


def test_every_problem_at_once_with_its_key(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(BROKEN)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    keys = {k for k, _ in info.value.problems}
    assert keys >= {
        "database.urll",
        "programs.standard.monthly_limit",
        "mail.port",
        "mail.transport",
        "http.listen",
        "coaches[0].email",
        "coaches[0].timezone",
        "coaches[0].working_hours",
    }
    messages = dict(info.value.problems)
    assert "did you mean 'url'" in messages["database.urll"]
    assert "funday" in messages["coaches[0].working_hours"]


def test_check_config_exits_2_listing_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(BROKEN)
    result = cli_process(path, "check-config")
    assert result.returncode == 2
    for key in ("database.urll", "mail.port", "coaches[0].timezone", "http.listen"):
        assert key in result.stderr
    good = cli_process(EXAMPLE, "check-config", "--json")
    assert good.returncode == 0 and '"ok": true' in good.stdout


def test_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[database]\nurl = \n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "line 2" in str(info.value)


def test_environment_overrides_toml_and_secrets_come_from_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "smtp"
    secret.write_text("s3cret\n")
    path = tmp_path / "c.toml"
    path.write_text(f'[mail]\ntransport = "smtp"\npassword_file = "{secret.name}"\n')
    monkeypatch.setenv("CALBRIDGE_DATABASE__URL", "sqlite:///from-env.db")
    monkeypatch.setenv("CALBRIDGE_MAIL__PORT", "2525")
    settings = load_config(path)
    assert settings.database_url == "sqlite:///from-env.db"
    assert settings.mail.port == 2525
    assert settings.mail.secret() == "s3cret"
    assert "s3cret" not in repr(settings)
    monkeypatch.setenv("CALBRIDGE_MAIL__PASSWORD", "from-env")
    path.write_text('[mail]\ntransport = "smtp"\n')
    assert load_config(path).mail.secret() == "from-env"


def test_missing_secret_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[mail]\npassword_file = "/nonexistent/secret"\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.problems[0][0] == "mail.password_file"


def test_config_file_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALBRIDGE_CONFIG", str(EXAMPLE))
    assert load_config().coaches[0].id == "maia"
    monkeypatch.delenv("CALBRIDGE_CONFIG")
    monkeypatch.setattr("calbridge.config.load.DEFAULT_PATHS", (tmp_path / "none.toml",))
    with pytest.raises(ConfigError, match="--config"):
        load_config()
