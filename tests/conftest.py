"""Fixtures shared by every test package."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from childsafe.store.testing import isolated_database

PG_URL = os.environ.get("CHILDSAFE_TEST_PG_URL")


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param(
            "postgresql",
            marks=[
                pytest.mark.postgres,
                pytest.mark.skipif(not PG_URL, reason="CHILDSAFE_TEST_PG_URL is not set (see .ci/postgres.sh)"),
            ],
        ),
    ]
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database URL: SQLite in tmp_path, and an isolated PostgreSQL schema when one is configured."""
    with isolated_database(request.param, tmp_path, PG_URL) as url:
        yield url
