"""Errors raised by the storage package.

::

    StorageError
    ├── DatabaseNotMigrated   the schema is missing or behind the code: run `tingfeng db upgrade`
    ├── DatabaseUnavailable   the database URL cannot be reached
    └── SigningKeyError       the generated signing key file in the data dir cannot be read or written
"""


class StorageError(Exception):
    """Base of every storage error."""


class DatabaseNotMigrated(StorageError):
    """The database schema is not at the revision this code expects."""


class DatabaseUnavailable(StorageError):
    """The database cannot be connected to."""


class SigningKeyError(StorageError):
    """The signing key file in the data directory is unusable (unreadable, empty, not writable)."""
