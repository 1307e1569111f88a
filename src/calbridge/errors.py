"""One error root; the CLI is the one place that turns these into messages and exit codes."""

from __future__ import annotations

from typing import Any


class CalbridgeError(Exception):
    """Root of every error calbridge raises on purpose."""

    exit_code = 1


class UserError(CalbridgeError):
    """Bad usage, bad input or bad configuration: a person must change something."""

    exit_code = 2


class NotFound(UserError):
    """A coach, client, session or other named thing does not exist."""


class ConfigError(UserError):
    """The configuration is invalid; ``problems`` lists every (key path, message) at once."""

    def __init__(self, problems: list[tuple[str, str]], source: str = "") -> None:
        self.problems = problems
        self.source = source
        lines = [f"{key}: {msg}" if key else msg for key, msg in problems]
        where = f" in {source}" if source else ""
        super().__init__(f"{len(problems)} problem(s){where}:\n  " + "\n  ".join(lines))


class Refused(CalbridgeError):
    """A rule of the book refused the request (exit 1). ``code`` and ``details`` go to JSON."""

    exit_code = 1

    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details

    def as_json(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, **self.details}}


class PreconditionFailed(CalbridgeError):
    """A conditional write lost a race (etag clash); the caller re-reads and re-plans."""
