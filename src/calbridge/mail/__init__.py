"""Outgoing mail: the durable outbox and (pure) message building."""
