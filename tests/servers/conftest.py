"""Makes the CalDAV server fixtures available to every test module under tests/servers/."""

from .fixtures import caldav_server, calendar_url

__all__ = ["caldav_server", "calendar_url"]
