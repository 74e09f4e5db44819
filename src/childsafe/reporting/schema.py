"""A structural check of a report's XML: the fields a CyberTipline-style report cannot go without.

Not the NCMEC XSD (it is not public); the fields below are the ones its reporting API documents as required
for a report (the incident type and time, the reporter's organisation and contact), plus what makes this
package checkable: who the child is (age range), what was seen (each message with its sender and real time,
or each file with its hashes) and which case and decision it came from. Run on every report before it is
stored, so a package a receiver would refuse is never built.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime

from childsafe.reporting.package import LIST_ITEMS

REQUIRED = (
    "reportId",
    "incidentSummary/incidentType",
    "incidentSummary/incidentDateTime",
    "reporter/organization",
    "reporter/reportingPerson/name",
    "reporter/reportingPerson/email",
    "victim/ageRange",
    "additionalInformation/caseId",
    "additionalInformation/decisionId",
    "additionalInformation/categories/category",
)
"""Elements that must be present with text, as paths from ``<report>``."""

MESSAGE_FIELDS = ("role", "text", "sentAt")
FILE_FIELDS = ("fileName", "hashes/md5", "hashes/sha1", "hashes/sha256")
TIMES = ("incidentSummary/incidentDateTime", "evidence/messages/message/sentAt")
"""Elements holding a time: ISO 8601 with a time zone (a receiver cannot place a time without one)."""


def _text(node: ET.Element, path: str) -> str:
    found = node.find(path)
    return (found.text or "").strip() if found is not None else ""


def _is_time(value: str) -> bool:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None
    except ValueError:
        return False


def _list_items(root: ET.Element) -> list[str]:
    """Lists whose items are not named as :data:`LIST_ITEMS` says (e.g. ``<categorie>``)."""
    problems = []
    for container, item in LIST_ITEMS.items():
        for node in root.iter(container):
            wrong = sorted({child.tag for child in node if child.tag != item})
            if wrong:
                problems.append(f"{container}: items must be <{item}>, found <{'>, <'.join(wrong)}>")
    return problems


def report_problems(xml: str) -> list[str]:
    """What the report's XML lacks or gets wrong, one line each (empty when it has every required field)."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        return [f"not well-formed XML: {exc}"]
    if root.tag != "report":
        return [f"the root element must be <report>, not <{root.tag}>"]
    problems = [f"{path}: missing or empty" for path in REQUIRED if not _text(root, path)]
    messages = root.findall("evidence/messages/message")
    files = root.findall("evidence/files/file")
    if not messages and not files:
        problems.append("evidence: no message and no file (a report must show what was seen)")
    for i, message in enumerate(messages):
        problems += [
            f"evidence/messages/message[{i}]/{f}: missing or empty" for f in MESSAGE_FIELDS if not _text(message, f)
        ]
    for i, file in enumerate(files):
        problems += [f"evidence/files/file[{i}]/{f}: missing or empty" for f in FILE_FIELDS if not _text(file, f)]
    for path in TIMES:
        problems += [
            f"{path}: not an ISO 8601 time with a time zone: {node.text!r}"
            for node in root.findall(path)
            if (node.text or "").strip() and not _is_time((node.text or "").strip())
        ]
    return problems + _list_items(root)
