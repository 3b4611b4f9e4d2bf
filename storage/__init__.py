"""Storage: the schema (SQLModel tables), engine creation and migrations.

Imports nothing else of tingfeng's. Every other package reads and writes through it.
"""

from storage.db import Database, make_url_for_path
from storage.errors import DatabaseNotMigrated, DatabaseUnavailable, StorageError

__all__ = ["Database", "DatabaseNotMigrated", "DatabaseUnavailable", "StorageError", "make_url_for_path"]
