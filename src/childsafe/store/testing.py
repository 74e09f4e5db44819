"""Helpers to run store-backed tests against SQLite and PostgreSQL with isolated, throw-away databases."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from childsafe.store.database import database_url


@contextmanager
def isolated_database(backend: str, tmp_dir: Path, pg_url: str | None = None) -> Iterator[str]:
    """Yield a URL to an empty database: a new SQLite file, or a new PostgreSQL schema (dropped after)."""
    if backend == "sqlite":
        yield database_url(None, tmp_dir / "db")
        return
    if not pg_url:
        raise ValueError("a PostgreSQL URL is needed for the postgresql backend")
    schema = "cs_test_" + uuid.uuid4().hex[:12]
    base = make_url(pg_url)
    if base.drivername in ("postgresql", "postgres"):
        base = base.set(drivername="postgresql+psycopg")
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = base.update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
