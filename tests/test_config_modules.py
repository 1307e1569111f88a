"""The schema is split into section modules; ``calbridge.config.schema`` still exports every
name it did, as the very same objects, and every module stays under the house's 400 lines."""

from __future__ import annotations

from pathlib import Path

import calbridge.config as config_pkg
from calbridge.config import base, coaches, mail, schema

EXPORTED = {
    "BookSettings", "BoundsSettings", "BusySettings", "CalendarSettings", "Coach",
    "DEFAULT_COLORS", "DaemonSettings", "DatabaseSettings", "DavSettings", "Duration", "Email",
    "FeedsSettings", "HttpSettings", "InboundSettings", "MailSettings", "OffersSettings",
    "OutcomesSettings", "PoliciesSettings", "ProgramSettings", "RemindersSettings", "Secret",
    "Section", "ServiceSettings", "Settings", "SmsSettings", "SyncSettings", "Timezone",
    "TlsSecret", "WEEKDAYS", "_BASE_DIR", "default_state_dir", "describe", "parse_hours",
    "read_secret", "readable_file", "resolve_path", "resolve_writable",
}  # fmt: skip


def test_every_name_schema_exported_before_the_split_still_imports() -> None:
    missing = sorted(name for name in EXPORTED if not hasattr(schema, name))
    assert missing == []
    assert schema.Coach is coaches.Coach and schema.MailSettings is mail.MailSettings
    assert schema.SmsSettings is mail.SmsSettings and schema.Section is base.Section
    # load.py pushes the config's folder onto this list: it must be the one paths read.
    assert schema._BASE_DIR is base._BASE_DIR


def test_relative_paths_resolve_against_the_pushed_config_folder(tmp_path: Path) -> None:
    schema._BASE_DIR.append(tmp_path)
    try:
        assert base.resolve_path(Path("x")) == tmp_path / "x"
    finally:
        schema._BASE_DIR.pop()


def test_config_modules_stay_under_400_lines() -> None:
    folder = Path(config_pkg.__file__).parent
    long = {p.name: n for p in folder.glob("*.py") if (n := len(p.read_text().splitlines())) >= 400}
    assert long == {}
