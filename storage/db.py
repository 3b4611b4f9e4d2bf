"""Engine and session handling for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage.errors import DatabaseNotMigrated, DatabaseUnavailable

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def make_url_for_path(path: Path) -> str:
    """The SQLAlchemy URL of an SQLite file."""
    return f"sqlite:///{Path(path).resolve()}"


def normalise_url(url: str) -> str:
    """Accept the plain ``postgresql://`` form ops people paste, and use psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001 - SQLAlchemy hook
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def create_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for ``url``; SQLite files get WAL mode and a busy timeout."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(url, echo=echo, pool_pre_ping=True, pool_size=5, max_overflow=5)


class Database:
    """One database: its engine, sessions, and migration state."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = normalise_url(url)
        self.engine = create_engine(self.url, echo=echo)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    # ------------------------------------------------------------------ migrations
    def _alembic_config(self):  # noqa: ANN202 - alembic type
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        cfg.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        cfg.attributes["engine"] = self.engine
        return cfg

    def upgrade(self, revision: str = "head") -> None:
        """Apply migrations up to ``revision``."""
        from alembic import command

        command.upgrade(self._alembic_config(), revision)

    def head_revision(self) -> str:
        """The newest migration this code ships."""
        from alembic.script import ScriptDirectory

        return ScriptDirectory.from_config(self._alembic_config()).get_current_head() or ""

    def current_revision(self) -> str | None:
        """The revision the database is at, or None when it was never migrated."""
        from alembic.runtime.migration import MigrationContext

        try:
            with self.engine.connect() as conn:
                return MigrationContext.configure(conn).get_current_revision()
        except sa.exc.OperationalError as exc:
            raise DatabaseUnavailable(f"cannot connect to {self.safe_url}: {exc.orig}") from exc

    def require_migrated(self) -> None:
        """Refuse to run against a database whose schema is missing or old."""
        current, head = self.current_revision(), self.head_revision()
        if current != head:
            state = "has no tingfeng schema" if current is None else f"is at revision {current}"
            raise DatabaseNotMigrated(
                f"the database {self.safe_url} {state}, this code needs {head}: run `tingfeng db upgrade`"
            )

    @property
    def safe_url(self) -> str:
        """The URL with any password hidden, for messages."""
        return sa.engine.make_url(self.url).render_as_string(hide_password=True)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
