"""The store: SQLModel tables, the database connection and its migrations; the event kinds and
their payload types, the undoable change log, and PostgreSQL's advisory locks."""
