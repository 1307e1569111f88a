"""Two-way sync between the book and calendars: a pure planner and an executor."""
