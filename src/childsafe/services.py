"""The composition root: every service of one deployment, wired once.

``Services.open(config)`` opens the store and builds, in one place and one order, what the faces (the gateway
and the CLI) used to wire by hand: the privacy services with the per-child message vault, the audit log that
receives privacy events, the review service that erasure reaches, and the reporting service. With
``checking=True`` (the gateway) it also builds the engine with its sinks: the decision sink with its
escalation journal, the audit sink, the case intake that opens review cases as escalations are stored, the
alerter for severity-1 cases and the shipper of signed checkpoints.

The use cases that need more than one service live here, so that every face runs the same steps:
:meth:`Services.erase_child` (queued writes land first, then the erasure, then every cache forgets the child),
:meth:`Services.file_appeal` and :meth:`Services.build_report`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Literal

from childsafe.audit import AuditLog, AuditSink, ContentKey, open_audit_log_for_store
from childsafe.audit.checkpoints import CheckpointShipper, shipper_for
from childsafe.audit.privacy_hook import privacy_audit_hook
from childsafe.config import Config
from childsafe.engine import Engine
from childsafe.privacy.consent import ledger_consent_check
from childsafe.privacy.service import PrivacyServices
from childsafe.review import ReviewError, ReviewService
from childsafe.review.alerts import Alerter
from childsafe.review.intake import CaseIntake
from childsafe.store import Store, StoreEventSink
from childsafe.store.recorder import EscalationJournal

if TYPE_CHECKING:
    from childsafe.accounts import Accounts
    from childsafe.privacy.rights import ErasureReport
    from childsafe.reporting import IncidentReport, ReportingService
    from childsafe.reporting.package import ReportedAccount
    from childsafe.review.service import Appeal

log = logging.getLogger("childsafe.services")

ChildHook = Callable[[str], object]
"""Called with a child's id when its stored data was erased or changed (faces drop their cached copies)."""


class Services:
    """One deployment's services over one store; open with :meth:`open`, close with :meth:`close` or ``with``."""

    def __init__(
        self,
        config: Config,
        store: Store,
        privacy: PrivacyServices,
        audit: AuditLog,
        review: ReviewService,
        *,
        owns_store: bool,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.privacy = privacy
        self.audit = audit
        self.review = review
        self.owns_store = owns_store
        self.clock = clock
        self.engine: Engine | None = None
        self.decision_sink: StoreEventSink | None = None
        self.journal: EscalationJournal | None = None
        self.audit_sink: AuditSink | None = None
        self.checkpoints: CheckpointShipper | None = None
        self.intake: CaseIntake | None = None
        self.alerter: Alerter | None = None
        self.child_hooks: list[ChildHook] = []
        """Faces register their caches of children here (:meth:`child_changed` calls them)."""
        self.closers: list[Callable[[], object]] = []
        """Faces' shutdown hooks; run first by :meth:`close`, while every service is still open."""
        self._reporting: ReportingService | None = None
        self._accounts: Accounts | None = None
        self._closed = False

    # -- opening ------------------------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        config: Config,
        *,
        store: Store | None = None,
        engine: Engine | None = None,
        clock: Callable[[], datetime] | None = None,
        checking: bool = False,
    ) -> Services:
        """Open the store (unless given) and wire every service; ``checking`` also builds the engine and its
        sinks (the gateway). A given ``engine`` gets the sinks added. On a failure, what was opened is closed."""
        owns_store = store is None
        if store is None:
            store = Store.from_config(config.store, clock=clock)
        checking = checking or engine is not None
        services: Services | None = None
        try:
            services = cls._wire(config, store, owns_store=owns_store, clock=clock, alerts=checking)
            if checking:
                services._wire_checking(engine)
        except BaseException:
            if services is not None:
                services.close()  # threads already started (alerts, case intake) stop; an owned store closes
            elif owns_store:
                store.close()
            raise
        return services

    @classmethod
    def _wire(
        cls, config: Config, store: Store, *, owns_store: bool, clock: Callable[[], datetime] | None, alerts: bool
    ) -> Services:
        privacy = PrivacyServices.from_config(config, store, clock=clock)
        if store.messages is not None:
            # per-child message keys: erasure destroys the key; rows written with the store-wide key stay readable
            store.messages = privacy.message_vault(int(config.store.retention_days))
        audit = open_audit_log_for_store(store, config.audit, config.store.data_dir)
        privacy.set_audit(privacy_audit_hook(audit))  # consents, data rights and legal holds into the chain
        server = config.server
        # alerts go out as cases open, which happens where decisions are made (the gateway's case intake)
        alerter = Alerter.from_config(config.review.alerts, f"http://{server.host}:{server.port}") if alerts else None
        review = ReviewService.from_store(
            store,
            config,
            audit=audit,
            on_urgent=alerter.notify if alerter else None,
            consent=ledger_consent_check(store, required=privacy.settings.consent_required),
        )
        privacy.rights.erasure_hooks.append(review.erase_child)  # cases go too, unless a report preserves them
        services = cls(config, store, privacy, audit, review, owns_store=owns_store, clock=clock)
        services.alerter = alerter
        return services

    def _wire_checking(self, engine: Engine | None) -> None:
        config, store = self.config, self.store
        # escalate/report decisions wait in a local journal until the database has them (never lost to an outage)
        self.journal = EscalationJournal(config.store.data_dir)
        self.decision_sink = StoreEventSink(
            store.decisions, store.conversations, journal=self.journal, clock=store.clock
        )
        if engine is None:
            engine = Engine.from_config(config, sinks=[self.decision_sink])
        else:
            engine.sinks.append(self.decision_sink)
        self.engine = engine
        self.audit_sink = AuditSink(
            self.audit,
            only_flagged=config.audit.only_flagged,
            content_key=ContentKey.from_config(config),  # keyed digests: a plain hash of short text is guessable
        )
        engine.sinks.append(self.audit_sink)
        self.checkpoints = shipper_for(self.audit, config.audit, config.store.data_dir)
        self.intake = CaseIntake(self.review, self.decision_sink.flush)
        engine.sinks.append(self.intake)  # wakes on escalations: the case (and its alert) opens at once

    @property
    def reporting(self) -> ReportingService:
        """Incident reports (built on first use: it derives the evidence key)."""
        if self._reporting is None:
            from childsafe.hashing.hashers import pdq_hex
            from childsafe.reporting import ReportingService

            self._reporting = ReportingService.from_config(
                self.config, self.store, review=self.review, audit=self.audit, clock=self.clock, image_hash=pdq_hex
            )
        return self._reporting

    @property
    def accounts(self) -> Accounts:
        """Moderator, admin and guardian logins (built on first use; guardian records through the privacy
        services' repository, so one write lock serves both, and account changes audited)."""
        if self._accounts is None:
            from childsafe.accounts import Accounts

            self._accounts = Accounts.for_store(self.store, audit=self.audit, guardians=self.privacy.guardians)
        return self._accounts

    # -- use cases -------------------------------------------------------------------------------------------

    def flush(self, timeout_s: float = 10.0) -> None:
        """Wait until queued decision and conversation writes are in the database (nothing queued: no-op)."""
        if self.decision_sink is not None:
            self.decision_sink.flush(timeout_s)

    def child_changed(self, child_id: str) -> None:
        """Tell every face that the child's stored data changed (erased, rectified): caches drop their copies."""
        for hook in self.child_hooks:
            try:
                hook(child_id)
            except Exception as exc:  # a cache that cannot forget must not undo the erasure that preceded it
                log.error("a child hook failed: %s", type(exc).__name__)

    def erase_child(self, child_id: str, actor: str) -> ErasureReport:
        """Erase a child: pending writes land first (or they would recreate rows after the erasure), then every
        row and the child's key go, review cases too, and every cache forgets the child."""
        self.flush()
        report = self.privacy.rights.erase(child_id, actor)
        self.child_changed(child_id)
        return report

    def file_appeal(
        self,
        decision_id: str,
        reason: str,
        requester: Literal["child", "guardian"],
        *,
        app_id: int | None = None,
    ) -> Appeal:
        """Contest a decision; a decision still queued for the database is waited for once."""
        try:
            return self.review.file_appeal(decision_id, reason, requester, app_id=app_id)
        except ReviewError as exc:
            if exc.status != 404 or self.decision_sink is None:
                raise
            self.flush(5.0)
            return self.review.file_appeal(decision_id, reason, requester, app_id=app_id)

    def build_report(
        self,
        case_id: str,
        *,
        incident_type: str,
        actor: str,
        account: ReportedAccount | None = None,
        media: list[tuple[str, bytes]] | None = None,
    ) -> IncidentReport:
        """The incident report of a case a moderator confirmed as sexual exploitation of a child."""
        return self.reporting.create(case_id, incident_type=incident_type, actor=actor, account=account, media=media)

    # -- closing ---------------------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop in dependency order: faces' hooks, queued decisions, case intake, the audit sink's queue, the
        last checkpoint, alerts; then the store (when it was opened here). Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        steps: list[Callable[[], object]] = [*self.closers]
        if self.decision_sink is not None:
            steps.append(self.decision_sink.close)
        for part in (self.intake, self.audit_sink, self.checkpoints, self.alerter):
            if part is not None:
                steps.append(part.close)
        for step in steps:
            try:
                step()
            except Exception as exc:
                log.error("shutdown step failed: %s", type(exc).__name__)
        if self.owns_store:
            self.store.close()

    def __enter__(self) -> Services:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
