"""Children's privacy: personal-detail redaction (``childsafe.privacy.pii``) and, later, consent and data rights."""
