"""Configuration of outcomes and money: services, notice period, notes, calendar tags."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, field_validator

from calbridge.config.base import Section
from calbridge.config.policies import PolicyOverride
from calbridge.core.money import parse_amount
from calbridge.core.outcomes import check_label, parse_outcome


def _amount(value: Any) -> Decimal:
    if isinstance(value, float):  # TOML 45.5: read as written, never as a binary float
        value = repr(value)
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise ValueError('an amount is written like "45.50"')
    return parse_amount(str(value))


Amount = Annotated[Decimal, BeforeValidator(_amount)]


class ServiceSettings(Section):
    fee: Amount = Field(..., description="What one session of this service costs the client.")
    wage: Amount = Field(..., description="What one session of this service pays the coach.")
    description: str = Field("", description="What the service is, for people.")
    policies: PolicyOverride | None = Field(
        None, description="Booking policies of this service, overriding [policies]."
    )


class TagTarget(Section):
    outcome: str = Field(..., description="The outcome the tag records, e.g. no-show.")
    type: str | None = Field(
        None, description="Completion type label (default: the outcome's own default type)."
    )

    @field_validator("outcome")
    @classmethod
    def _outcome(cls, value: str) -> str:
        return parse_outcome(value).value

    @field_validator("type")
    @classmethod
    def _type(cls, value: str | None) -> str | None:
        return None if value is None else check_label(value)


DEFAULT_TAGS = {
    "Attended": "attended",
    "No show": "no-show",
    "Late cancellation": "late-cancellation",
    "Non-billable": "non-billable",
    "Completed": "completed",
}


class OutcomesSettings(Section):
    # Moved: a value here is refused with where it went (a plain unknown key would not say).
    late_cancel_hours: None = Field(None, exclude=True, description="Moved to [policies].")

    @field_validator("late_cancel_hours", mode="before")
    @classmethod
    def _moved(cls, value: object) -> None:
        if value is not None:
            raise ValueError(
                "is now [policies] cancel_deadline_hours (one deadline for the CLI and the"
                " client page; a service may set its own)"
            )

    currency: str = Field("GBP", description="ISO 4217 code of every fee and wage.")
    default_service: str | None = Field(
        None, description="Service of sessions planned without one (a key of [services])."
    )
    note_edit_hours: int = Field(
        24, ge=0, le=24 * 30, description="How long a signed note can still be edited."
    )
    done_color: str = Field(
        "gray", description="Calendar colour (CSS3 name) of sessions with an outcome."
    )
    tags: dict[str, TagTarget | str] = Field(
        default_factory=lambda: dict[str, TagTarget | str](DEFAULT_TAGS),
        description="Calendar tag (category or [title tag]) -> outcome, or {outcome, type}.",
    )

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Z]{3}", value):
            raise ValueError(f"{value!r} is not an ISO 4217 code like GBP or EUR")
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: dict[str, TagTarget | str]) -> dict[str, TagTarget | str]:
        out: dict[str, TagTarget | str] = {}
        for tag, target in value.items():
            if not tag.strip() or any(c in tag for c in "[]"):
                raise ValueError(f"tag {tag!r} must be non-empty text without [ ]")
            out[tag] = parse_outcome(target).value if isinstance(target, str) else target
        return out

    def check_services(self, services: dict[str, ServiceSettings]) -> None:
        if self.default_service is not None and self.default_service not in services:
            known = ", ".join(sorted(services)) or "none: add a [services.NAME] table"
            raise ValueError(
                f"outcomes.default_service: unknown service {self.default_service!r}"
                f" (known: {known})"
            )

    def edit_window(self) -> timedelta:
        return timedelta(hours=self.note_edit_hours)

    def tag_targets(self) -> dict[str, TagTarget]:
        return {
            tag: TagTarget(outcome=t) if isinstance(t, str) else t for tag, t in self.tags.items()
        }
