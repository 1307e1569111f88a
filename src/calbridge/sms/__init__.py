"""Text messages: the second channel of the outbox."""
