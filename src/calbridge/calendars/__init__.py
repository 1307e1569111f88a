"""Calendar storage: one interface (``base.CalendarStore``), several backends."""
