"""Member names every store accepts: one path segment ending in ``.ics``.

``base.resource_name`` produces such names from UIDs. A name is the *literal* resource name
(a file name in a vdir, the decoded last path segment on a CalDAV server), never a URL
fragment, so ``%`` in a name is an ordinary character wherever it is stored.
"""

from __future__ import annotations

SUFFIX = ".ics"


def check_name(name: str) -> str:
    """Return ``name`` if it is a single ``*.ics`` path segment; ValueError otherwise."""
    if not name.endswith(SUFFIX) or name in (".", ".."):
        raise ValueError(f"a member name must end in {SUFFIX}: {name!r}")
    if "/" in name or "\x00" in name:
        raise ValueError(f"a member name must be one path segment: {name!r}")
    return name
