"""calbridge: the session book of a practice, bridged to the calendars people use."""

__version__ = "0.1.0"
