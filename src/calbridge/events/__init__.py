"""The one mapping from the book to events: sessions, holds and closures as event specs
(``spec``, pure), and the loader that feeds it from the store (``load``). The calendar
copy, the feeds and every mail are built from what this package gives."""
