"""The book's storage: SQLAlchemy tables, migrations, and the engine with its locks."""
