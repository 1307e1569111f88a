"""The small built-in HTTP server: offer links, ICS feeds, health and metrics."""
