"""Incident reports (NCMEC CyberTipline-style packages), evidence under legal hold, submission adapters."""

from childsafe.reporting.package import (
    INCIDENT_TYPES,
    MediaEvidence,
    ReportedAccount,
    ReporterSettings,
    build_package,
    to_xml,
)
from childsafe.reporting.service import (
    INCIDENT_STATUSES,
    Incident,
    IncidentReport,
    ReportingError,
    ReportingService,
    media_evidence,
)
from childsafe.reporting.submit import HttpSubmissionAdapter, SubmissionAdapter, SubmissionError

__all__ = [
    "INCIDENT_STATUSES",
    "INCIDENT_TYPES",
    "HttpSubmissionAdapter",
    "Incident",
    "IncidentReport",
    "MediaEvidence",
    "ReportedAccount",
    "ReporterSettings",
    "ReportingError",
    "ReportingService",
    "SubmissionAdapter",
    "SubmissionError",
    "build_package",
    "media_evidence",
    "to_xml",
]
