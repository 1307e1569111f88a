"""What the book and its channels share, below both: the one mapping from the book to
events (sessions, holds and closures as event specs: ``spec``, pure; the loader that feeds
it from the store: ``load``), the typed change events a book operation emits
(``changes``, pure), the book as a channel reads it (``context``) and the client's page
link (``links``). The calendar copy, the feeds and every mail are built from what this
package gives."""
