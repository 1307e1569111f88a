"""On the PYTHONPATH of every process the tests start (tests/icsguard/plugin.py puts it
there): when ICSGUARD_DIR is set, calbridge's write, publish and mail points dump every
iCalendar object into that folder for the test session to validate. Other programs
(Radicale, Xandikos) never import calbridge, and are left as they are."""

import importlib.util
import os
import sys
from pathlib import Path

# Under pytest-xdist the workers run their own guard (tests/icsguard/plugin.py); the
# controller names itself so that its workers, and only they, skip this.
_worker = os.environ.get("ICSGUARD_XDIST_CONTROLLER") == str(os.getppid())
if os.environ.get("ICSGUARD_DIR") and not _worker:
    _path = Path(__file__).resolve().parent.parent / "hooks.py"
    _spec = importlib.util.spec_from_file_location("icsguard_hooks", _path)
    if _spec is not None and _spec.loader is not None:
        _hooks = importlib.util.module_from_spec(_spec)
        sys.modules["icsguard_hooks"] = _hooks
        _spec.loader.exec_module(_hooks)
        _hooks.in_subprocess()
