"""The store: SQLModel tables, the database connection and its migrations."""
