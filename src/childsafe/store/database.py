"""Database engine creation and schema migrations (applied at start)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from childsafe.types import ChildsafeError

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
SQLITE_FILE = "childsafe.db"


class StoreError(ChildsafeError):
    """The store cannot be opened or used; the message says why (never includes message text)."""


def database_url(url: str | None, data_dir: str | Path) -> str:
    """The configured URL, or an SQLite file in ``data_dir`` (created if missing)."""
    if url:
        return url
    directory = Path(data_dir).expanduser()
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)  # a new data folder is the owner's alone
    except OSError as exc:
        raise StoreError(f"cannot create data directory {directory}: {exc.strerror}") from None
    return f"sqlite:///{(directory / SQLITE_FILE).resolve()}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run while one writer commits; NORMAL sync is durable across app crashes in WAL mode.
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    # Deleted rows are overwritten with zeros, not left in free pages: an erased child's rows and wrapped key
    # must not be recoverable from the file (the WAL is emptied after an erasure, see SqlChildData.scrub).
    cur.execute("PRAGMA secure_delete=ON")
    cur.close()


def _create_private_file(database: str | None) -> None:
    """Create a missing SQLite file with mode 0600 before SQLite opens it.

    SQLite creates a new database with the process umask (usually 0644: readable by every local user), and
    its ``-wal`` and ``-shm`` files copy the database file's mode; created here first, all three are 0600."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database).expanduser()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError as exc:
        raise StoreError(f"cannot create the database file {path}: {exc.strerror}") from None
    os.close(fd)


def create_db_engine(url: str) -> Engine:
    """A SQLAlchemy engine for ``url`` (``sqlite:///...`` or ``postgresql+psycopg://...``)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(f"store.url is not a valid database URL: {url.split('@')[-1]!r}") from None
    if parsed.drivername == "postgresql" or parsed.drivername == "postgres":
        parsed = parsed.set(drivername="postgresql+psycopg")
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"check_same_thread": False}
        _create_private_file(parsed.database)
    else:
        kwargs.update(pool_pre_ping=True, pool_size=10, max_overflow=10)
    try:
        engine = create_engine(parsed, **kwargs)
    except Exception as exc:  # missing driver, bad options
        raise StoreError(f"cannot create database engine for {parsed.get_backend_name()}: {exc}") from None
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _alembic_config() -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def migrate(engine: Engine) -> str:
    """Bring the schema to the newest revision; returns that revision id."""
    cfg = _alembic_config()
    try:
        with engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")
    except Exception as exc:
        raise StoreError(f"cannot migrate database ({engine.url.get_backend_name()}): {type(exc).__name__}") from exc
    head = ScriptDirectory.from_config(cfg).get_current_head()
    return head or ""


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()
