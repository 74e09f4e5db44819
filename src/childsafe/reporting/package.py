"""Incident report packages with the fields of an NCMEC CyberTipline report, as JSON and as XML.

The structure follows the CyberTipline reporting API's report sections (incidentSummary, reporter,
personOrUserReported, victim, evidence/fileDetails, additionalInformation); field names are ours where the
public documentation does not fix them. It is a package for a person or an adapter to submit, not a
certified implementation of the NCMEC schema.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

from childsafe.config import ReportingConfig

INCIDENT_TYPES = {
    "csam": "Child Pornography (possession, manufacture, and distribution)",
    "enticement": "Online Enticement of Children for Sexual Acts",
    "sextortion": "Online Enticement of Children for Sexual Acts (sextortion)",
}
REPORTABLE_CATEGORIES = frozenset({"sexual_minors", "grooming"})


class ReporterSettings(ReportingConfig):
    """The reporting organisation and its contact: the ``reporting`` config section, plus helpers."""

    @classmethod
    def from_config(cls, config: object) -> ReporterSettings:
        """The ``reporting`` section of a :class:`childsafe.config.Config` (defaults when it has none)."""
        section = getattr(config, "reporting", None)
        if section is None:
            return cls()
        if isinstance(section, dict):
            return cls.model_validate(section)
        return cls.model_validate(section, from_attributes=True)

    def placeholders(self) -> list[str]:
        """The reporter fields still at their shipped placeholder values (a report naming them is not sendable)."""
        return _placeholders(self.org_name, self.contact_email)


_DEFAULT_ORG = ReportingConfig().org_name


def _placeholders(org: object, email: object) -> list[str]:
    bad = []
    if not str(org or "").strip() or org == _DEFAULT_ORG:
        bad.append("reporting.org_name")
    if not str(email or "").strip() or str(email).endswith((".invalid", "@example.com", "@example.org")):
        bad.append("reporting.contact_email")
    return bad


def package_placeholders(package: dict[str, Any]) -> list[str]:
    """Placeholder reporter fields in a built package: it was built before the operator set them."""
    reporter = package.get("report", {}).get("reporter", {})
    return _placeholders(reporter.get("organization"), reporter.get("reportingPerson", {}).get("email"))


@dataclass(frozen=True, slots=True)
class MediaEvidence:
    """A media file as evidence: its hashes (MD5, SHA-1, SHA-256, PDQ when it is a picture)."""

    filename: str
    md5: str
    sha1: str
    sha256: str
    pdq: str | None
    size: int


@dataclass(frozen=True, slots=True)
class ReportedAccount:
    """What is known about the reported person: identifiers in the app and IP addresses (all optional)."""

    user_ids: list[str] = field(default_factory=list)
    screen_names: list[str] = field(default_factory=list)
    ip_addresses: list[dict[str, str]] = field(default_factory=list)  # {"ip":..., "at": iso time, "event":...}


def build_package(
    *,
    report_id: str,
    incident_type: str,
    incident_time: str,
    reporter: ReporterSettings,
    account: ReportedAccount,
    child_age_band: str,
    child_ref: str | None,
    excerpts: list[dict[str, Any]],
    media: list[MediaEvidence],
    moderator_notes: str,
    case_id: str,
    decision_id: str,
    categories: list[str],
) -> dict[str, Any]:
    if incident_type not in INCIDENT_TYPES:
        raise ValueError(f"incident type must be one of {', '.join(INCIDENT_TYPES)}, got {incident_type!r}")
    return {
        "report": {
            "reportId": report_id,
            "incidentSummary": {
                "incidentType": INCIDENT_TYPES[incident_type],
                "incidentKind": incident_type,
                "incidentDateTime": incident_time,
                "incidentDateTimeDescription": "when childsafe checked the flagged message",
            },
            "reporter": {
                "reportingPerson": {"name": reporter.contact_name, "email": reporter.contact_email},
                "organization": reporter.org_name,
                **({"phone": reporter.contact_phone} if reporter.contact_phone else {}),
            },
            "personOrUserReported": {
                "userIds": list(account.user_ids),
                "screenNames": list(account.screen_names),
                "ipCaptureEvents": list(account.ip_addresses),
            },
            "victim": {"ageRange": child_age_band, "internalReference": child_ref},
            "evidence": {
                "messages": excerpts,
                "files": [
                    {
                        "fileName": m.filename,
                        "size": m.size,
                        "hashes": {"md5": m.md5, "sha1": m.sha1, "sha256": m.sha256, "pdq": m.pdq},
                    }
                    for m in media
                ],
            },
            "additionalInformation": {
                "moderatorNotes": moderator_notes,
                "caseId": case_id,
                "decisionId": decision_id,
                "categories": categories,
            },
        }
    }


LIST_ITEMS = {
    "userIds": "userId",
    "screenNames": "screenName",
    "ipCaptureEvents": "ipCaptureEvent",
    "messages": "message",
    "files": "file",
    "categories": "category",
}
"""The element of each item of a list, by the list's element: named, not derived ("categories" is not
"categorie" + s)."""


def _add(parent: ET.Element, key: str, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, dict):
        node = ET.SubElement(parent, key)
        for k, v in value.items():
            _add(node, k, v)
    elif isinstance(value, list):
        node = ET.SubElement(parent, key)
        item = LIST_ITEMS.get(key, "item")
        for v in value:
            _add(node, item, v)
    elif isinstance(value, bool):
        ET.SubElement(parent, key).text = "true" if value else "false"  # xs:boolean, not Python's "True"
    else:
        ET.SubElement(parent, key).text = str(value)


def to_xml(package: dict[str, Any]) -> str:
    """The package as XML (elements named after the JSON keys, lists as repeated singular elements)."""
    root = ET.Element("report")
    for k, v in package["report"].items():
        _add(root, k, v)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")
