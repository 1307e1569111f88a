"""iCalendar mapping (pure): book values to VCALENDAR bytes and back. No I/O here."""
