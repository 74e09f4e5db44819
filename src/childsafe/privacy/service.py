"""All privacy services over one store, built once (by the gateway, the CLI or a test)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from childsafe.privacy.consent import ConsentLedger, Purpose, consent_allows
from childsafe.privacy.healthy import HealthyUse, HealthyVerdict
from childsafe.privacy.hooks import AuditHook, PrivacyEvent, no_audit
from childsafe.privacy.retention import purge
from childsafe.privacy.rights import DataRights
from childsafe.privacy.settings import PrivacySettings, privacy_settings
from childsafe.store import Store
from childsafe.store.crypto import MessageCipher, load_master_key
from childsafe.store.privacy_sql import (
    ChildKeyedMessageVault,
    ChildKeyring,
    GuardianRecord,
    PrivacyDb,
    SqlChildData,
    SqlConsentLedger,
    SqlGuardians,
    SqlHealthyUse,
    read_profile,
)
from childsafe.store.sealing import WordSealer

log = logging.getLogger("childsafe.privacy")


class StaleChild(Exception):
    """The caller's copy of a child profile is out of date (erased, or age band rectified elsewhere)."""

    def __init__(self, child_id: str, *, erased: bool) -> None:
        super().__init__(child_id)
        self.child_id = child_id
        self.erased = erased


class PrivacyServices:
    """Guardians, consent, healthy use, data rights and retention for one store.

    ``audit`` receives every privacy event; it can be swapped later (``services.set_audit(hook)``) so the
    audit log can attach after construction."""

    def __init__(
        self,
        store: Store,
        master_key: bytes,
        settings: PrivacySettings | None = None,
        *,
        audit: AuditHook = no_audit,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.store = store
        self.settings = settings or PrivacySettings()
        self.clock: Callable[[], datetime] = clock or store.clock
        self._audit: AuditHook = audit
        self.db = PrivacyDb(store.engine, self.clock, lock=store.db.write_lock)
        self.guardians = SqlGuardians(self.db)
        self.keyring = ChildKeyring(self.db, master_key)
        self._legacy = MessageCipher(master_key)
        self.consent = ConsentLedger(
            SqlConsentLedger(self.db), self.guardians.guardian_of, self.clock, self.settings.notice_version, self.emit
        )
        self.healthy = HealthyUse(SqlHealthyUse(self.db), self.clock, self.emit)
        self.sealer = WordSealer(self.keyring, master_key)
        self.data = SqlChildData(self.db, self.keyring, master_key, self._legacy, self.sealer)
        self.rights = DataRights(
            self.data,
            self.guardians,
            self.consent,
            self.healthy,
            self.settings.retention.model_dump(),
            self.clock,
            self.emit,
        )

    @classmethod
    def from_config(cls, config: Any, store: Store, **kwargs: Any) -> PrivacyServices:
        """Services for ``store`` with the master key and privacy settings of ``config``."""
        sc = getattr(config, "store", None)
        key = load_master_key(getattr(sc, "encryption_key", None), getattr(sc, "data_dir", "./childsafe-data"))
        return cls(store, key, privacy_settings(config), **kwargs)

    def set_audit(self, hook: AuditHook) -> None:
        self._audit = hook

    def emit(self, event: PrivacyEvent) -> None:
        self._audit(event)

    def create_guardian(
        self, display_name: str, actor: str = "operator", app_id: int | None = None
    ) -> tuple[GuardianRecord, str]:
        """A guardian of ``app_id`` (None: the operator's; tied to an app by its first linked child)."""
        guardian, token = self.guardians.create(display_name, app_id)
        self.emit(
            {
                "type": "guardian.created",
                "at": guardian.created_at.isoformat(),
                "actor": actor,
                "child_id": None,
                "details": {"guardian_id": guardian.id, "app_id": app_id},
            }
        )
        return guardian, token

    def link_child(self, guardian_id: str, child_id: str, actor: str = "operator") -> None:
        self.guardians.link(guardian_id, child_id)
        self.emit(
            {
                "type": "guardian.linked",
                "at": self.clock().isoformat(),
                "actor": actor,
                "child_id": child_id,
                "details": {"guardian_id": guardian_id},
            }
        )

    def consent_applies(self, child_id: str) -> bool:
        """Consent is enforced for children a guardian manages (or has consented for), or for all when required."""
        return self.settings.consent_required or self.consent.state(child_id).enrolled

    def gate(self, child_id: str, age_band: str, *, storing: bool = False) -> tuple[Purpose | None, HealthyVerdict]:
        """For the chat pipeline: (the missing purpose that refuses the request, or None; the healthy-use verdict)
        in as few queries as
        possible (one for an unmanaged child without limits). Nothing is cached, so a withdrawal or a new limit
        applies to the very next request on every replica.

        Raises :class:`StaleChild` when the child was erased, or its age band changed, since the caller read it."""
        profile = read_profile(self.db, child_id)
        if not profile.exists:
            raise StaleChild(child_id, erased=True)
        if profile.age_band != age_band:
            raise StaleChild(child_id, erased=False)
        enrolled = profile.guardian_id is not None or profile.has_consent_records
        if enrolled or self.settings.consent_required:
            state = self.consent.state(child_id)
            missing: Purpose | None = None
            if not state.allows(Purpose.SAFETY_CHECKING):
                missing = Purpose.SAFETY_CHECKING
            elif storing and self.settings.refuse_without_storage_consent:
                missing = None if state.allows(Purpose.CONVERSATION_STORAGE) else Purpose.CONVERSATION_STORAGE
            if missing is not None:
                return missing, HealthyVerdict(True, None, None, 0.0, None, None)
        return None, self.healthy.check(child_id, age_band, settings=profile.settings)

    def allows(self, child_id: str, purpose: Purpose) -> bool:
        """Whether the child's data may be used for ``purpose`` now, asked where the data is used.

        A child held to consent (linked to a guardian, with consent records, or every child under
        ``privacy.consent_required``) needs that purpose in force; any other child is governed by the
        operator's own settings."""
        return consent_allows(self.consent, child_id, purpose, required=self.settings.consent_required)

    def may_store_messages(self, child_id: str) -> bool:
        """Where consent applies, conversation text is stored only with 'conversation_storage' in force."""
        return self.allows(child_id, Purpose.CONVERSATION_STORAGE)

    def message_vault(self, retention_days: int) -> ChildKeyedMessageVault:
        """A vault encrypting per child, storing only with consent (replaces the store-wide one)."""
        return ChildKeyedMessageVault(
            self.db, self.keyring, timedelta(days=retention_days), self.may_store_messages, self._legacy
        )

    def purge(self, actor: str = "retention-job") -> dict[str, int]:
        counts = purge(self.data, self.settings.retention, self.clock, self.emit, actor)
        sealed = self.data.seal_legacy_words()  # words stored in plaintext by an older version
        if sealed:
            log.info("sealed %d excerpts or appeal reasons stored in plaintext before this version", sealed)
        return counts
