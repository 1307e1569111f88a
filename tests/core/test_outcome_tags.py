"""Which markers a calendar event carries, and which are configured tags (pure)."""

from __future__ import annotations

from calbridge.core.outcome_tags import markers, read
from calbridge.core.outcomes import Broad, Outcome, check_fits, default_outcome, parse_outcome

OWN = ("Session", "Video session")


TAGS = ("No show", "Attended")


def test_markers_from_title_brackets_and_configured_categories() -> None:
    assert markers("Session: Ana Lopez", ("Session",), OWN, TAGS) == []
    assert markers("Session: Ana Lopez [No show]", ("Session",), OWN, TAGS) == ["No show"]
    assert markers("Session: Ana", ("Session", "no-show", "Blue"), OWN, TAGS) == ["no-show"]
    assert markers("[No show] Session [no show]", ("NO SHOW",), OWN, TAGS) == ["No show"]
    assert markers("Session (moved)", (), OWN, TAGS) == []


def test_a_category_of_the_coachs_own_is_no_marker() -> None:
    """PRODUCT rule 8: a category the coach adds (not a configured tag) is kept, not read."""
    assert markers("Session: Ana", ("Session", "Blue", "Important"), OWN, TAGS) == []
    assert markers("Session: Ana [Blue]", ("Blue",), OWN, TAGS) == ["Blue"]


def test_read_splits_known_and_unknown_ignoring_case_and_dashes() -> None:
    tags = {"No show": "no-show", "Attended": "attended"}
    known, unknown = read(["no-show", "ATTENDED", "Blue"], tags)
    assert known == {"no-show": "no-show", "ATTENDED": "attended"} and unknown == ["Blue"]


def test_outcomes_parse_and_fit_direct_or_indirect() -> None:
    assert parse_outcome("No show") is Outcome.NO_SHOW
    assert parse_outcome("LATE_CANCELLATION") is Outcome.LATE_CANCELLATION
    assert Outcome.NON_BILLABLE.label == "Non-billable"
    check_fits(Outcome.ATTENDED, True, 1)
    check_fits(Outcome.ON_HOLD, False, 1)
    for outcome, direct in ((Outcome.COMPLETED, True), (Outcome.NO_SHOW, False)):
        try:
            check_fits(outcome, direct, 7)
        except ValueError as exc:
            assert "session 7" in str(exc)
        else:
            raise AssertionError(f"{outcome} fitted a direct={direct} session")


def test_default_outcome_is_late_within_notice() -> None:
    from datetime import UTC, datetime, timedelta

    start = datetime(2026, 11, 23, 10, tzinfo=UTC)
    day = timedelta(hours=24)
    early = start - timedelta(hours=30)
    late = start - timedelta(hours=3)
    assert default_outcome(Broad.CANCELLED, True, start, early, day) is Outcome.CANCELLED
    assert default_outcome(Broad.CANCELLED, True, start, late, day) is Outcome.LATE_CANCELLATION
    assert default_outcome(Broad.CANCELLED, False, start, late, day) is Outcome.CANCELLED
    assert default_outcome(Broad.MISSED, True, start, late, day) is Outcome.NO_SHOW
    assert default_outcome(Broad.COMPLETED, False, start, late, day) is Outcome.COMPLETED
