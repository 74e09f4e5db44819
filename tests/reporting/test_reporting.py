from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from sqlalchemy import text

from childsafe.reporting import (
    HttpSubmissionAdapter,
    ReportedAccount,
    ReportingError,
    ReportingService,
    media_evidence,
)


def confirmed_case(env: Any, category: str = "grooming", outcome: str = "confirm") -> str:
    env.decision("d1", "escalate", [category], "asks a 12-year-old for photos and to keep it secret")
    env.review.import_escalations()
    case = env.review.queue()[0]
    env.review.claim(case.id, "mod1")
    env.review.decide(case.id, "mod1", outcome, "adult asks child for photos and secrecy")
    return str(case.id)


def png() -> bytes:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (64, 64), "white")
    ImageDraw.Draw(img).rectangle((10, 10, 40, 50), fill="blue")
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def service(env: Any) -> ReportingService:
    return ReportingService(env.store.engine, env.review, env.audit, b"k" * 32, clock=env.clock)


def test_report_package_fields_and_xml(env: Any) -> None:
    case_id = confirmed_case(env)
    reports = service(env)
    media = png()
    account = ReportedAccount(user_ids=["contact-42"], ip_addresses=[{"ip": "203.0.113.7", "at": "2026-03-01T09:00Z"}])
    report = reports.create(
        case_id, incident_type="enticement", actor="mod1", account=account, media=[("a.png", media)]
    )
    r = report.package["report"]
    assert r["incidentSummary"]["incidentType"].startswith("Online Enticement")
    assert r["reporter"]["organization"] and r["reporter"]["reportingPerson"]["email"]
    assert r["personOrUserReported"]["userIds"] == ["contact-42"]
    assert r["personOrUserReported"]["ipCaptureEvents"][0]["ip"] == "203.0.113.7"
    assert r["victim"]["ageRange"] == "10-12"
    import hashlib

    hashes = r["evidence"]["files"][0]["hashes"]
    assert hashes["md5"] == hashlib.md5(media).hexdigest() and hashes["sha1"] == hashlib.sha1(media).hexdigest()
    assert hashes["pdq"] is None or len(hashes["pdq"]) == 64
    assert r["additionalInformation"]["moderatorNotes"] == "adult asks child for photos and secrecy"
    root = ET.fromstring(report.xml)
    assert root.findtext("incidentSummary/incidentKind") == "enticement"
    assert root.findtext("personOrUserReported/userIds/userId") == "contact-42"
    assert root.findtext("evidence/files/file/hashes/md5") == hashes["md5"]
    assert reports.create(case_id, incident_type="enticement", actor="mod1").id == report.id  # one per case


def test_evidence_is_encrypted_under_a_year_long_hold(env: Any) -> None:
    case_id = confirmed_case(env)
    reports = service(env)
    report = reports.create(case_id, incident_type="sextortion", actor="mod1", media=[("a.png", png())])
    assert report.hold_until - env.clock.now >= __import__("datetime").timedelta(days=365)
    with env.store.engine.connect() as c:
        raw = c.execute(text("SELECT ciphertext FROM report_evidence")).scalars().all()
        holds = c.execute(text("SELECT child_id, reference FROM legal_holds")).all()
    assert raw and all(b"PNG" not in bytes(x) and b"redacted" not in bytes(x) for x in raw)
    kinds = dict(reports.evidence(report.id))
    assert kinds["media:a.png"] == png() and b"redacted excerpt" in kinds["message"]
    assert holds == [(env.child.id, f"incident report {report.id}")]
    assert [r.type for r in env.audit.records()][-2:] == ["report_created", "legal_hold"]


def test_media_evidence_has_a_pdq_hash_only_with_the_hasher_handed_in() -> None:
    pytest.importorskip("pdqhash")
    from childsafe.hashing.hashers import pdq_hex

    picture = png()
    assert len(media_evidence("a.png", picture, pdq_hex).pdq or "") == 64
    assert media_evidence("a.png", picture).pdq is None  # reporting hashes no pictures itself
    assert media_evidence("notes.txt", b"not a picture", pdq_hex).pdq is None


def test_only_confirmed_exploitation_cases_are_reported(env: Any) -> None:
    case_id = confirmed_case(env, category="violence")
    with pytest.raises(ReportingError, match="not sexual exploitation"):
        service(env).create(case_id, incident_type="csam", actor="mod1")


def test_submission_retries_and_is_idempotent(env: Any, tipline: tuple[Any, str]) -> None:
    fake, url = tipline
    reports = service(env)
    report = reports.create(confirmed_case(env), incident_type="enticement", actor="mod1")
    adapter = HttpSubmissionAdapter(url, retries=3, backoff_s=0.01)
    done = reports.submit(report.id, adapter)
    assert done.status == "submitted" and done.remote_id == "tip-1"
    assert len(fake.posts) == 3 and len({k for k, _ in fake.posts}) == 1  # two 503s, then accepted, one key
    assert reports.submit(report.id, adapter).remote_id == "tip-1" and len(fake.posts) == 3  # not sent again
    # A lost reply: the receiver recognises the key and answers with the same id.
    again = HttpSubmissionAdapter(url, retries=0).submit(done.package, done.xml, done.idempotency_key)
    assert again == "tip-1"


def test_submission_gives_up_and_records_failure(env: Any, tipline: tuple[Any, str]) -> None:
    fake, url = tipline
    fake.failures = 10
    reports = service(env)
    report = reports.create(confirmed_case(env), incident_type="enticement", actor="mod1")
    with pytest.raises(ReportingError, match="gave up after 2 attempts"):
        reports.submit(report.id, HttpSubmissionAdapter(url, retries=1, backoff_s=0.01))
    assert reports.get(report.id).status == "failed"
