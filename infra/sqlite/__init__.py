"""The ``Store`` port on an embedded SQLite database (the local server's default store)."""
