"""The embedded store: SQLAlchemy models, Alembic migrations and narrow per-role interfaces.

SQLite in a data directory (WAL mode) by default; PostgreSQL by URL. Migrations run at open.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, text

from childsafe.store.crypto import MessageCipher, Pseudonymizer, load_master_key
from childsafe.store.database import StoreError, create_db_engine, database_url, migrate
from childsafe.store.interfaces import (
    AppKeys,
    AppRecord,
    ChildProfiles,
    ChildRecord,
    ConversationRecord,
    ConversationStates,
    DecisionEntry,
    DecisionLog,
    EscalationRecord,
    MessageVault,
    StoredMessage,
    UpstreamErrorLog,
    UpstreamErrorRecord,
)
from childsafe.store.privacy_sql import ChildKeyring, PrivacyDb
from childsafe.store.recorder import DecisionScope, StoreEventSink, decision_scope, scoped
from childsafe.store.sealing import WordSealer
from childsafe.store.sql import (
    Db,
    SqlAppKeys,
    SqlChildProfiles,
    SqlConversationStates,
    SqlDecisionLog,
    SqlMessageVault,
    SqlUpstreamErrorLog,
)

__all__ = [
    "AppKeys",
    "AppRecord",
    "ChildProfiles",
    "ChildRecord",
    "ConversationRecord",
    "ConversationStates",
    "DecisionEntry",
    "DecisionLog",
    "DecisionScope",
    "EscalationRecord",
    "MessageVault",
    "Store",
    "StoreError",
    "StoreEventSink",
    "StoredMessage",
    "UpstreamErrorLog",
    "UpstreamErrorRecord",
    "decision_scope",
    "scoped",
]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Store:
    """All storage roles over one database. Build with :meth:`open`; each attribute is one role."""

    apps: AppKeys
    children: ChildProfiles
    conversations: ConversationStates
    decisions: DecisionLog
    messages: MessageVault | None
    upstream_errors: UpstreamErrorLog

    def __init__(
        self,
        engine: Engine,
        master_key: bytes,
        *,
        store_messages: bool = False,
        retention_days: int = 30,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock or utc_now
        db = Db(engine, self.clock)
        self.db = db
        """Shared write discipline: other services writing to this database use ``db.write_lock``."""
        self.apps = SqlAppKeys(db)
        self.children = SqlChildProfiles(db, Pseudonymizer(master_key))
        self.conversations = SqlConversationStates(db)
        keyring = ChildKeyring(PrivacyDb(engine, self.clock, lock=db.write_lock), master_key)
        self.sealer = WordSealer(keyring, master_key)
        """Seals a child's words (excerpts, appeal reasons) under the child's key; shared with review."""
        self.decisions = SqlDecisionLog(db, self.sealer)
        self.upstream_errors = SqlUpstreamErrorLog(db)
        # retention 0 means "keep nothing", so the vault is off rather than writing rows that expire at once
        self.messages = (
            SqlMessageVault(db, MessageCipher(master_key), timedelta(days=retention_days))
            if store_messages and retention_days > 0
            else None
        )

    @classmethod
    def open(
        cls,
        url: str | None = None,
        data_dir: str | Path = "./childsafe-data",
        *,
        store_messages: bool = False,
        retention_days: int = 30,
        encryption_key: str | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> Store:
        """Connect, apply migrations and return the store (raises :class:`StoreError` with a clear reason)."""
        engine = create_db_engine(database_url(url, data_dir))
        try:
            migrate(engine)
        except StoreError:
            engine.dispose()
            raise
        key = load_master_key(encryption_key, data_dir)
        return cls(engine, key, store_messages=store_messages, retention_days=retention_days, clock=clock)

    @classmethod
    def from_config(cls, store_config: object, clock: Callable[[], datetime] | None = None) -> Store:
        """Open from a ``childsafe.config.StoreConfig``."""
        return cls.open(
            getattr(store_config, "url", None),
            getattr(store_config, "data_dir", "./childsafe-data"),
            store_messages=bool(getattr(store_config, "store_messages", False)),
            retention_days=int(getattr(store_config, "retention_days", 30)),
            encryption_key=getattr(store_config, "encryption_key", None),
            clock=clock,
        )

    def ping(self) -> bool:
        """True when the database answers a trivial query."""
        try:
            with self.engine.connect() as c:
                c.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    @property
    def backend(self) -> str:
        return self.engine.url.get_backend_name()

    def close(self) -> None:
        self.engine.dispose()
