"""The gateway's shared state: config, engine, store, upstream, caches; built once by ``create_app``."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from childsafe.config import Config, ServerConfig
from childsafe.engine import Engine
from childsafe.gateway.errors import ApiError
from childsafe.gateway.metrics import Metrics
from childsafe.gateway.ratelimit import RateLimiter
from childsafe.gateway.upstream import UpstreamClient, UpstreamError
from childsafe.store import AppRecord, ChildRecord, ConversationRecord, Store, StoreEventSink
from childsafe.store.crypto import hash_api_key
from childsafe.types import AgeBand, InvalidInputError

if TYPE_CHECKING:
    from childsafe.services import Services

log = logging.getLogger("childsafe.gateway")

_CACHE_LIMIT = 50_000
_STATE_CACHE_LIMIT = 10_000


class Gateway:
    """Everything a request handler needs; handlers get it through the ``GatewayDep`` dependency."""

    def __init__(
        self,
        services: Services,
        upstream: UpstreamClient | None,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        assert services.engine is not None and services.decision_sink is not None, "open the services with checking"
        self.services = services
        self.config: Config = services.config
        self.engine: Engine = services.engine
        self.store: Store = services.store
        self.sink: StoreEventSink = services.decision_sink
        self.upstream = upstream
        self.clock = clock
        self.metrics = Metrics()
        self.limiter = RateLimiter()
        self._apps: dict[str, AppRecord] = {}
        self._children: dict[tuple[int, str], ChildRecord] = {}
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self.server: ServerConfig = self.config.server
        # With SQLite there is exactly one gateway process per database, so the newest conversation state
        # can live in memory and reach the database in the writer's batches. Several replicas on PostgreSQL
        # share state only through the database, so there every save is written before the response.
        self.cache_states = self.store.backend == "sqlite"
        self._states: OrderedDict[str, ConversationRecord] = OrderedDict()
        self._states_lock = threading.Lock()
        services.child_hooks.append(self.forget_child)  # an erased or corrected child leaves the caches

    @property
    def closers(self) -> list[Callable[[], object]]:
        """Blocking shutdown hooks of the faces (e.g. the login pool), run by :meth:`aclose` first."""
        return self.services.closers

    # -- apps --------------------------------------------------------------------------------------
    def register_app(self, name: str, key: str, rate_limit_per_minute: int) -> AppRecord:
        app = self.store.apps.ensure(name, key, rate_limit_per_minute)
        self._apps[hash_api_key(key)] = app
        return app

    async def app_for_key(self, key: str) -> AppRecord | None:
        digest = hash_api_key(key)
        app = self._apps.get(digest)
        if app is None:
            app = await asyncio.to_thread(self.store.apps.by_key, key)
            if app is not None:
                self._apps[digest] = app
        return app

    # -- children ----------------------------------------------------------------------------------
    def default_band(self) -> AgeBand:
        return AgeBand.parse(self.config.engine.default_age)

    async def resolve_child(self, app: AppRecord, external_id: str | None, age: str | None) -> ChildRecord:
        if not external_id:
            raise ApiError(
                400, "no child given: set the request's 'user' field or the X-Childsafe-Child header", param="user"
            )
        if len(external_id) > 256:
            raise ApiError(400, "child id is longer than 256 characters", param="user")
        key = (app.id, external_id)
        child = self._children.get(key)
        if child is not None:
            return child
        child = await asyncio.to_thread(self.store.children.get, app.id, external_id)
        if child is None:
            if not self.server.auto_create_children:
                raise ApiError(
                    404,
                    "unknown child: register it with POST /v1/children, or enable server.auto_create_children",
                    "unknown_child",
                    param="user",
                )
            band = self.parse_age(age) if age else self.default_band()
            child = await asyncio.to_thread(self.store.children.get_or_create, app.id, external_id, band.value)
        self.remember_child(external_id, child)
        return child

    def remember_child(self, external_id: str, child: ChildRecord) -> None:
        if len(self._children) >= _CACHE_LIMIT:
            self._children.clear()
        self._children[(child.app_id, external_id)] = child

    @staticmethod
    def parse_age(age: str | int, param: str = "age") -> AgeBand:
        """The age band of a request's age field; a 400 naming the field (never quoting the value) otherwise."""
        try:
            return AgeBand.parse(age)
        except InvalidInputError:
            bands = ", ".join(b.value for b in AgeBand)
            raise ApiError(
                400,
                f"field '{param}': unknown age; give an age in years (0 to 150) or an age band ({bands})",
                param=param,
            ) from None

    # -- conversations -----------------------------------------------------------------------------
    def conversation_lock(self, conversation_id: str) -> asyncio.Lock:
        """One turn at a time per conversation, so monitor state is never lost to a race."""
        lock = self._locks.get(conversation_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[conversation_id] = lock
        return lock

    def load_conversation(self, conversation_id: str) -> ConversationRecord | None:
        """Newest state of a conversation (blocking: call from a worker thread)."""
        if self.cache_states:
            with self._states_lock:
                record = self._states.get(conversation_id)
                if record is not None:
                    self._states.move_to_end(conversation_id)
                    return record
        return self.store.conversations.load(conversation_id)

    def save_conversation(self, record: ConversationRecord, *, now: bool = False) -> None:
        """Persist a conversation's state (blocking: call from a worker thread); ``now`` skips the batching."""
        if self.cache_states:
            with self._states_lock:
                self._states[record.id] = record
                self._states.move_to_end(record.id)
                while len(self._states) > _STATE_CACHE_LIMIT:
                    self._states.popitem(last=False)
        if now or not self.cache_states:
            self.store.conversations.save(record)
        else:
            self.sink.save_conversation(record)

    def forget_child(self, child_id: str) -> None:
        """Drop the cached profile and conversation state of a child (erased or rectified)."""
        for key in [k for k, c in self._children.items() if c.id == child_id]:
            self._children.pop(key, None)
        with self._states_lock:
            for conversation_id in [k for k, r in self._states.items() if r.child_id == child_id]:
                self._states.pop(conversation_id, None)

    @staticmethod
    def derive_conversation_id(app_id: int, child_id: str, first_message: str) -> str:
        digest = hashlib.sha256(f"{app_id}\x00{child_id}\x00{first_message}".encode()).hexdigest()
        return "conv_" + digest[:40]

    # -- upstream errors ---------------------------------------------------------------------------
    async def record_upstream_error(self, err: UpstreamError, app_id: int | None, conversation_id: str | None) -> None:
        self.metrics.upstream_errors.labels(err.kind).inc()
        log.warning("upstream error kind=%s status=%s", err.kind, err.upstream_status or "-")
        try:
            await asyncio.to_thread(
                self.store.upstream_errors.record,
                err.kind,
                err.upstream_status or err.status,
                err.message,
                app_id,
                conversation_id,
            )
        except Exception as exc:
            log.error("could not record upstream error: %s", type(exc).__name__)

    async def aclose(self) -> None:
        if self.upstream is not None:
            await self.upstream.aclose()
        await asyncio.to_thread(self.services.close)  # faces' hooks, sinks, checkpoints, alerts, then the store
