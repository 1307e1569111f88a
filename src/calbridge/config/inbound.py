"""The ``[inbound]`` section (the mailbox calbridge reads answers from); ``[policies]``
lives in config.policies (re-exported here)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from calbridge.config.base import TlsSecret
from calbridge.config.policies import PoliciesSettings

__all__ = ["InboundSettings", "PoliciesSettings"]


class InboundSettings(TlsSecret):
    host: str = Field(..., description="IMAP server host of the mailbox answers arrive in.")
    port: int = Field(993, ge=1, le=65535, description="IMAP port (993 with tls, 143 without).")
    tls: bool = Field(True, description="Connect with implicit TLS (port 993).")
    starttls: bool = Field(False, description="Upgrade a plain connection with STARTTLS.")
    username: str = Field(..., description="IMAP login name.")
    folder: str = Field("INBOX", description="Folder the answers arrive in.")
    applied_folder: str = Field(
        "calbridge/applied", description="Folder applied messages are moved to."
    )
    rejected_folder: str = Field(
        "calbridge/rejected",
        description="Folder everything else is moved to (unknown, forged, stale, malformed,"
        " bounces), each logged with the reason.",
    )
    idle: bool = Field(True, description="Wait with IMAP IDLE where the server offers it.")
    poll_seconds: float = Field(
        60.0, gt=0, description="Seconds between looks when IDLE is off or not offered."
    )
    timeout: float = Field(30.0, gt=0, description="Seconds before an IMAP call gives up.")
    ca_file: Path | None = Field(
        None, description="CA bundle (PEM) that signs the IMAP server's certificate."
    )

    @model_validator(mode="after")
    def _three_folders(self) -> InboundSettings:
        if len({self.folder, self.applied_folder, self.rejected_folder}) != 3:
            raise ValueError("folder, applied_folder and rejected_folder must be three folders")
        return self
