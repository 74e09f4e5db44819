from __future__ import annotations

import hashlib
import json
import stat
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from typer.testing import CliRunner

from childsafe.cli import report_cmd
from childsafe.config import load_config
from childsafe.reporting import ReportingError, ReportingService

ORG = {"org_name": "Example Kids Chat Ltd", "contact_name": "Safety Lead", "contact_email": "safety@kidschat.test"}


def cli() -> typer.Typer:
    app = typer.Typer(pretty_exceptions_enable=False)
    report_cmd.register(app)
    return app


def run(*args: str | Path) -> Any:
    return CliRunner().invoke(cli(), [str(a) for a in args])


def ok(*args: str | Path) -> Any:
    res = run(*args)
    assert res.exit_code == 0, res.output
    return res


def write_config(env: Any, tmp_path: Path, **reporting: Any) -> Path:
    path = tmp_path / "childsafe.yaml"
    section = {**ORG, **reporting}
    url = str(env.store.engine.url.render_as_string(hide_password=False))
    path.write_text(yaml.safe_dump({"store": {"url": url, "data_dir": str(tmp_path / "data")}, "reporting": section}))
    return path


def decide(env: Any, decision_id: str, flagged: str, outcome: str = "confirm", **kw: Any) -> str:
    env.decision(decision_id, "escalate", [flagged], "asks a 12-year-old for photos and to keep it secret")
    env.review.import_escalations()
    case = next(c for c in env.review.queue() if c.decision_id == decision_id)
    env.review.claim(case.id, "mod1")
    env.review.decide(case.id, "mod1", outcome, "adult asks child for photos and secrecy", **kw)
    env.clock.now += timedelta(minutes=1)  # confirmations in order (the list is oldest first)
    return str(case.id)


def listed(config: Path, status: str = "pending") -> list[dict[str, Any]]:
    res = run("report", "list", "--status", status, "--json", "--config", config)
    assert res.exit_code == 0, res.output
    return [json.loads(line) for line in res.stdout.splitlines()]


def png() -> bytes:
    import io

    from PIL import Image, ImageDraw

    img = Image.new("RGB", (48, 48), "white")
    ImageDraw.Draw(img).ellipse((8, 8, 40, 40), fill="green")
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def test_list_shows_only_confirmed_exploitation_cases_without_content(env: Any, tmp_path: Path) -> None:
    grooming = decide(env, "d-groom", "grooming")
    changed = decide(env, "d-changed", "harassment", "change_category", category="sexual_minors")
    decide(env, "d-violence", "violence")  # confirmed, but not exploitation
    decide(env, "d-overturned", "grooming", "overturn")
    env.decision("d-open", "escalate", ["grooming"], "asks for photos")  # not decided yet
    env.review.import_escalations()
    config = write_config(env, tmp_path)

    rows = listed(config)
    assert [(r["case_id"], r["category"], r["status"]) for r in rows] == [
        (grooming, "grooming", "unreported"),
        (changed, "sexual_minors", "unreported"),
    ]
    assert rows[0]["age_band"] == "10-12" and rows[0]["confirmed_by"] == "mod1" and rows[0]["report_id"] is None

    table = run("report", "list", "--config", config)
    assert table.exit_code == 0 and grooming in table.stdout and "2 incident(s)" in table.stdout
    assert "photos" not in table.stdout + json.dumps(rows)  # ids and labels only, never the messages
    assert listed(config, "submitted") == []


def test_build_writes_the_package_with_the_configured_reporter(env: Any, tmp_path: Path) -> None:
    case_id = decide(env, "d1", "grooming")
    config = write_config(env, tmp_path, contact_phone="+1 555 0100")
    media = tmp_path / "shape.png"
    media.write_bytes(png())
    out = tmp_path / "out"
    res = run(
        "report", "build", case_id, "--type", "enticement", "--out", out, "--actor", "lead-mod",
        "--user-id", "contact-42", "--screen-name", "coolguy", "--ip", "203.0.113.7@2026-03-01T09:00Z",
        "--media", media, "--config", config,
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    report_id = listed(config)[0]["report_id"]
    assert listed(config)[0]["status"] == "ready"
    package = json.loads((out / f"{report_id}.json").read_text())["report"]
    assert package["reporter"]["organization"] == "Example Kids Chat Ltd"
    assert package["reporter"]["reportingPerson"] == {"name": "Safety Lead", "email": "safety@kidschat.test"}
    assert package["reporter"]["phone"] == "+1 555 0100"
    assert package["incidentSummary"]["incidentKind"] == "enticement"
    assert package["personOrUserReported"]["userIds"] == ["contact-42"]
    assert package["personOrUserReported"]["screenNames"] == ["coolguy"]
    assert package["personOrUserReported"]["ipCaptureEvents"] == [{"ip": "203.0.113.7", "at": "2026-03-01T09:00Z"}]
    assert package["evidence"]["files"][0]["hashes"]["sha256"] == hashlib.sha256(media.read_bytes()).hexdigest()
    root = ET.fromstring((out / f"{report_id}.xml").read_text())
    assert root.findtext("reporter/organization") == "Example Kids Chat Ltd"
    for suffix in ("json", "xml"):
        assert stat.S_IMODE((out / f"{report_id}.{suffix}").stat().st_mode) == 0o600  # evidence: owner only

    # The evidence is preserved encrypted under the store's key: a service built from the same config reads it.
    service = ReportingService.from_config(load_config(config), env.store)
    assert dict(service.evidence(report_id))["media:shape.png"] == media.read_bytes()
    assert service.get(report_id).hold_until - datetime.now(UTC) > timedelta(days=364)
    types = [r.type for r in env.audit.records()]
    assert types[-3:] == ["report_created", "legal_hold", "export"]

    again = run("report", "build", case_id, "--type", "csam", "--out", out, "--actor", "lead-mod", "--config", config)
    assert again.exit_code == 2 and "already exists" in again.stderr
    forced = run(
        "report", "build", case_id, "--type", "csam", "--out", out, "--actor", "lead-mod", "--force", "--config", config
    )
    assert forced.exit_code == 0 and "already existed" in forced.stderr
    assert json.loads((out / f"{report_id}.json").read_text())["report"]["incidentSummary"]["incidentKind"] == (
        "enticement"  # one report per case: the second build did not make another
    )
    assert len(listed(config, "all")) == 1


def test_build_refuses_placeholder_reporter_details(env: Any, tmp_path: Path) -> None:
    case_id = decide(env, "d1", "grooming")
    config = write_config(env, tmp_path, org_name="childsafe operator (set reporting.org_name)")
    res = run("report", "build", case_id, "--type", "csam", "--out", tmp_path / "o", "--actor", "m", "--config", config)
    assert res.exit_code == 2 and "reporting.org_name" in res.stderr
    assert listed(config)[0]["status"] == "unreported"  # nothing built with a placeholder organisation


def test_mark_submitted_records_the_reference_once(env: Any, tmp_path: Path) -> None:
    case_id = decide(env, "d1", "grooming")
    config = write_config(env, tmp_path)
    out = tmp_path / "out"
    ok("report", "build", case_id, "--type", "sextortion", "--out", out, "--actor", "m", "--config", config)
    report_id = listed(config)[0]["report_id"]

    res = run("report", "mark-submitted", report_id, "--reference", "CT-123456", "--actor", "lead", "--config", config)
    assert res.exit_code == 0, res.output
    assert listed(config) == []
    done = listed(config, "submitted")
    assert [(d["report_id"], d["reference"], d["status"]) for d in done] == [(report_id, "CT-123456", "submitted")]
    assert done[0]["submitted_at"] is not None
    same = run("report", "mark-submitted", report_id, "--reference", "CT-123456", "--actor", "lead", "-c", config)
    assert same.exit_code == 0
    other = run("report", "mark-submitted", report_id, "--reference", "CT-999", "--actor", "lead", "-c", config)
    assert other.exit_code == 2 and "already recorded as submitted with reference 'CT-123456'" in other.stderr
    submitted = [r for r in env.audit.records() if r.type == "report_submitted"]
    assert len(submitted) == 1 and submitted[0].data["remote_id"] == "CT-123456" and submitted[0].actor == "lead"
    assert env.audit.verify().ok


def test_submit_sends_to_the_configured_endpoint_once(
    env: Any, tmp_path: Path, tipline: tuple[Any, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, url = tipline
    fake.failures = 1
    case_id = decide(env, "d1", "grooming")
    config = write_config(env, tmp_path, endpoint=url)
    ok("report", "build", case_id, "--type", "csam", "--out", tmp_path / "o", "--actor", "m", "-c", config)
    report_id = listed(config)[0]["report_id"]
    monkeypatch.setenv("CHILDSAFE_REPORTING_TOKEN", "tok-1")
    res = run("report", "submit", report_id, "--actor", "lead", "--config", config)
    assert res.exit_code == 0, res.output
    assert "submitted: reference tip-1" in res.stdout and len(fake.posts) == 2  # one 503, then accepted
    assert ET.fromstring(fake.posts[-1][1]).findtext("reporter/organization") == "Example Kids Chat Ltd"
    again = run("report", "submit", report_id, "--actor", "lead", "--config", config)
    assert again.exit_code == 0 and "already submitted" in again.stdout and len(fake.posts) == 2


def test_submit_failure_is_recorded_and_exits_1(env: Any, tmp_path: Path, tipline: tuple[Any, str]) -> None:
    fake, url = tipline
    fake.failures = 100
    case_id = decide(env, "d1", "grooming")
    config = write_config(env, tmp_path, endpoint=url)
    ok("report", "build", case_id, "--type", "csam", "--out", tmp_path / "o", "--actor", "m", "-c", config)
    report_id = listed(config)[0]["report_id"]
    service = ReportingService.from_config(load_config(config), env.store)
    # the CLI uses the adapter's default retries with backoff; a short-backoff run of the same path:
    with pytest.raises(ReportingError, match="gave up"):
        service.submit(report_id, service.submission_adapter(retries=1, backoff_s=0.01), actor="lead")
    assert listed(config)[0]["status"] == "failed" and listed(config)[0]["attempts"] == 1


def test_submit_without_an_endpoint_points_to_mark_submitted(env: Any, tmp_path: Path) -> None:
    case_id = decide(env, "d1", "grooming")
    config = write_config(env, tmp_path)
    ok("report", "build", case_id, "--type", "csam", "--out", tmp_path / "o", "--actor", "m", "-c", config)
    res = run("report", "submit", listed(config)[0]["report_id"], "--actor", "lead", "--config", config)
    assert res.exit_code == 2 and "reporting.endpoint is not set" in res.stderr and "mark-submitted" in res.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["list", "--status", "open"], "--status must be one of"),
        (["build", "case_nope", "--type", "csam", "--out", "{tmp}/o", "--actor", "m"], "no case with id 'case_nope'"),
        (["build", "{case}", "--type", "porn", "--out", "{tmp}/o", "--actor", "m"], "--type must be one of"),
        (["build", "{case}", "--type", "csam", "--out", "{tmp}/o", "--actor", "m", "--ip", "999.1.1.1"], "--ip must"),
        (["build", "{case}", "--type", "csam", "--out", "{tmp}/o", "--actor", "m", "--ip", "10.0.0.1@noon"], "ISO"),
        (["build", "{case}", "--type", "csam", "--out", "{tmp}/o", "--actor", "m", "--media", "{tmp}/x"], "--media"),
        (["build", "{case}", "--type", "csam", "--out", "{tmp}/childsafe.yaml", "--actor", "m"], "is a file"),
        (["build", "{case}", "--type", "csam", "--out", "{tmp}/o", "--actor", " "], "--actor must name"),
        (["build", "{violence}", "--type", "csam", "--out", "{tmp}/o", "--actor", "m"], "not sexual exploitation"),
        (["build", "{open}", "--type", "csam", "--out", "{tmp}/o", "--actor", "m"], "not confirmed by a moderator"),
        (["mark-submitted", "rpt_nope", "--reference", "CT-1", "--actor", "m"], "no report with id 'rpt_nope'"),
        (["mark-submitted", "{report}", "--reference", "  ", "--actor", "m"], "a reference number is required"),
        (["submit", "rpt_nope", "--actor", "m"], "no report with id 'rpt_nope'"),
    ],
)
def test_bad_input_is_a_clear_error_with_exit_2(env: Any, tmp_path: Path, args: list[str], message: str) -> None:
    case_id = decide(env, "d1", "grooming")
    violence = decide(env, "d2", "violence")
    env.decision("d3", "escalate", ["grooming"], "asks for photos")
    env.review.import_escalations()
    still_open = next(c.id for c in env.review.queue() if c.decision_id == "d3")
    config = write_config(env, tmp_path)
    built = ReportingService.from_config(load_config(config), env.store).create(
        case_id, incident_type="csam", actor="m"
    )
    values = {"tmp": str(tmp_path), "case": case_id, "violence": violence, "open": still_open, "report": built.id}
    res = run("report", *[a.format(**values) for a in args], "--config", config)
    assert res.exit_code == 2, res.output
    assert message in res.stderr and "Traceback" not in res.output


def test_a_missing_config_file_is_named(tmp_path: Path) -> None:
    res = run("report", "list", "--config", tmp_path / "nope.yaml")
    assert res.exit_code == 2 and "config file not found" in res.stderr


def test_from_config_takes_the_reporting_section(env: Any, tmp_path: Path) -> None:
    config = load_config(write_config(env, tmp_path, hold_days=800, endpoint="https://tips.example.test/api"))
    service = ReportingService.from_config(config, env.store)
    assert service.reporter.org_name == "Example Kids Chat Ltd" and service.reporter.hold_days == 800
    assert service.reporter.placeholders() == []
    assert service.submission_adapter().url == "https://tips.example.test/api"
    report = service.create(decide(env, "d1", "grooming"), incident_type="enticement", actor="m")
    assert (report.hold_until - env.clock.now).days == 800
    ftp = ReportingService.from_config(load_config(write_config(env, tmp_path, endpoint="ftp://x")), env.store)
    with pytest.raises(ReportingError, match="http"):
        ftp.submission_adapter()
