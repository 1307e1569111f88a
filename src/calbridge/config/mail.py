"""The ``[mail]`` (outgoing mail) and ``[sms]`` (outgoing texts) sections."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from calbridge.config.base import Email, Section, TlsSecret, read_secret, readable_file


class MailSettings(TlsSecret):
    transport: Literal["smtp", "folder"] = Field("folder", description="smtp or folder.")
    from_: Email = Field(
        "sessions@localhost", alias="from", description="The practice's sending address."
    )
    folder: Path = Field(Path("mail"), description="Where the folder transport writes .eml.")
    host: str = Field("localhost", description="SMTP server host.")
    port: int = Field(587, ge=1, le=65535, description="SMTP server port.")
    starttls: bool = Field(True, description="Upgrade the connection with STARTTLS.")
    tls: bool = Field(False, description="Connect with implicit TLS (port 465).")
    username: str | None = Field(None, description="SMTP login name.")
    timeout: float = Field(30.0, gt=0, description="Seconds before an SMTP call gives up.")
    ca_file: Path | None = Field(
        None,
        description="CA bundle (PEM) that signs the SMTP server's certificate; default:"
        " the system's.",
    )
    give_up_after_hours: float = Field(
        48.0, gt=0, description="Hours a message is retried (backoff) before it is given up."
    )
    admin: Email | None = Field(
        None,
        description="The practice's admin address, told when a calendar is held by the"
        " mass-deletion guard (default: the `from` address).",
    )


class SmsSettings(Section):
    transport: Literal["folder", "twilio", "webhook"] = Field(
        "folder",
        description="folder (one file per text), twilio (Twilio-compatible REST) or"
        " webhook (a signed JSON POST to `url`).",
    )
    from_: str = Field(
        "", alias="from", description="The number (E.164) or sender name texts come from."
    )
    folder: Path = Field(Path("sms"), description="Where the folder transport writes texts.")
    url: str = Field(
        "https://api.twilio.com",
        description="twilio: the API's base URL; webhook: the URL each text is POSTed to.",
    )
    account_sid: str = Field("", description="twilio: the account SID (basic-auth user).")
    token: SecretStr | None = Field(
        None, description="twilio: auth token; webhook: signing key. Prefer token_file."
    )
    token_file: Path | None = Field(None, description="File holding the token.")
    region: str = Field("GB", description="Country assumed for numbers given without +.")
    timeout: float = Field(30.0, gt=0, description="Seconds before a provider call gives up.")
    give_up_after_hours: float = Field(
        48.0, gt=0, description="Hours a text is retried (backoff) before it is given up."
    )
    status_callback: bool = Field(
        True, description="twilio: ask for delivery status callbacks to calbridge's server."
    )

    def secret(self) -> str:
        return read_secret(self.token, self.token_file) or ""

    @field_validator("token_file")
    @classmethod
    def _readable_token(cls, value: Path | None) -> Path | None:
        return readable_file(value)

    @model_validator(mode="after")
    def _provider_complete(self) -> SmsSettings:
        if self.transport == "twilio" and not (self.account_sid and self.from_):
            raise ValueError("the twilio transport needs account_sid and from")
        if self.transport != "folder" and not (self.token or self.token_file):
            raise ValueError(f"the {self.transport} transport needs token or token_file")
        return self
