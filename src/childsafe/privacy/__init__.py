"""Children's privacy: personal-detail redaction (``pii``), the consent ledger (``consent``), data rights
(``rights``: export, crypto-shredding erasure, legal holds, rectification), retention (``retention``) and
healthy use (``healthy``); ``service.PrivacyServices`` builds them all over one store.

Submodules are imported explicitly (``from childsafe.privacy.consent import Purpose``) so that importing the
PII detector never pulls in the database layer.
"""
