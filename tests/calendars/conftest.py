"""The real CalDAV servers (Radicale, Xandikos) for the CalDAV store's contract run."""

from servers.fixtures import caldav_server, calendar_url

__all__ = ["caldav_server", "calendar_url"]
