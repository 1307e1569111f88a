"""The session book: the application layer that runs the pure rules inside transactions."""

from calbridge.book.context import Book

__all__ = ["Book"]
