"""`childsafe report list|build|submit|mark-submitted`: incident reports of child sexual exploitation."""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from childsafe.cli.common import fail, open_services

if TYPE_CHECKING:
    from childsafe.reporting import ReportingService

report_app = typer.Typer(
    help="Incident reports for cases a moderator confirmed as sexual exploitation of a child "
    "(CyberTipline-style packages, evidence under legal hold).",
    no_args_is_help=True,
)

ConfigOpt = Annotated[
    Path | None, typer.Option("--config", "-c", help="Config file (YAML); default: $CHILDSAFE_CONFIG or built-in")
]
ActorOpt = Annotated[str, typer.Option("--actor", help="Who is doing this, for the audit trail")]
TOKEN_ENV = "CHILDSAFE_REPORTING_TOKEN"


def register(app: typer.Typer) -> None:
    app.add_typer(report_app, name="report")


@contextmanager
def _service(config: Path | None) -> Iterator[ReportingService]:
    """The reporting service, wired by ``childsafe.services`` (an unknown case or report, a case that is not
    reportable, a key problem: exit code 2 with the message, never a traceback)."""
    with open_services(config) as services:
        yield services.reporting


def _actor(actor: str) -> str:
    if not actor.strip():
        fail("--actor must name who is doing this (it goes into the audit log)")
    return actor.strip()


def _when(at: datetime | None) -> str:
    return "-" if at is None else at.strftime("%Y-%m-%d %H:%M")


def _ip_event(value: str) -> dict[str, str]:
    """``IP`` or ``IP@TIME`` (ISO 8601) -> an IP capture event."""
    ip, _, at = value.partition("@")
    try:
        ipaddress.ip_address(ip.strip())
    except ValueError:
        fail(f"--ip must be an IP address, optionally with @ISO-TIME (203.0.113.7@2026-03-01T09:00Z), got {value!r}")
    event = {"ip": ip.strip()}
    if at:
        try:
            datetime.fromisoformat(at.strip().replace("Z", "+00:00"))
        except ValueError:
            fail(f"--ip time must be ISO 8601 (2026-03-01T09:00Z), got {at!r}")
        event["at"] = at.strip()
    return event


@report_app.command("list")
def list_incidents(
    status: Annotated[
        str,
        typer.Option(
            "--status",
            help="pending (not yet submitted), unreported (no report built), ready, failed, submitted, all",
        ),
    ] = "pending",
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line")] = False,
    config: ConfigOpt = None,
) -> None:
    """Cases confirmed as sexual exploitation of a child and where their report stands (ids only, no content)."""
    from childsafe.reporting import INCIDENT_STATUSES

    if status not in INCIDENT_STATUSES:
        fail(f"--status must be one of {', '.join(INCIDENT_STATUSES)}, got {status!r}")
    with _service(config) as service:
        incidents = service.incidents(status)
    if as_json:
        for inc in incidents:
            typer.echo(json.dumps(inc.to_json()))
        return
    if not incidents:
        typer.echo(f"no {status} incidents" if status != "all" else "no confirmed incidents")
        return
    typer.echo(f"{'case':<26} {'category':<14} {'age':<6} {'confirmed':<17} {'status':<11} {'report':<25} reference")
    for inc in incidents:
        typer.echo(
            f"{inc.case_id:<26} {inc.category:<14} {inc.age_band:<6} {_when(inc.confirmed_at):<17} "
            f"{inc.status:<11} {inc.report_id or '-':<25} {inc.remote_id or '-'}"
        )
    typer.echo(f"{len(incidents)} incident(s)")


@report_app.command("build")
def build(
    case_id: Annotated[str, typer.Argument(help="The confirmed case (case_...), from `childsafe report list`")],
    incident_type: Annotated[str, typer.Option("--type", help="csam, enticement or sextortion")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory for <report id>.json and .xml")],
    actor: ActorOpt,
    user_id: Annotated[
        list[str] | None, typer.Option("--user-id", help="Reported account's id in the app (repeatable)")
    ] = None,
    screen_name: Annotated[
        list[str] | None, typer.Option("--screen-name", help="Reported account's screen name (repeatable)")
    ] = None,
    ip: Annotated[
        list[str] | None, typer.Option("--ip", help="Reported account's IP, or IP@ISO-TIME (repeatable)")
    ] = None,
    media: Annotated[list[Path] | None, typer.Option("--media", help="A media file as evidence (repeatable)")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace package files already in --out")] = False,
    config: ConfigOpt = None,
) -> None:
    """Build (once per case) the report package, preserve its evidence under legal hold, write it to --out."""
    from childsafe.reporting import INCIDENT_TYPES, ReportedAccount

    who = _actor(actor)
    if incident_type not in INCIDENT_TYPES:
        fail(f"--type must be one of {', '.join(INCIDENT_TYPES)}, got {incident_type!r}")
    if out.exists() and not out.is_dir():
        fail(f"--out must be a directory, {out} is a file")
    files: list[tuple[str, bytes]] = []
    for path in media or []:
        try:
            files.append((path.name, path.read_bytes()))
        except OSError as exc:
            fail(f"cannot read --media {path}: {exc.strerror}")
    account = ReportedAccount(
        user_ids=[u for u in (user_id or []) if u.strip()],
        screen_names=[s for s in (screen_name or []) if s.strip()],
        ip_addresses=[_ip_event(v) for v in ip or []],
    )
    with _service(config) as service:
        missing = service.reporter.placeholders()
        if missing:
            fail(f"set {' and '.join(missing)} in the config first: the report names the reporting organisation")
        existing = service.for_case(case_id)
        report = service.create(case_id, incident_type=incident_type, actor=who, account=account, media=files)
        try:
            paths = service.export_package(report.id, out, who, overwrite=force)
        except OSError as exc:
            fail(f"cannot write to {out}: {exc.strerror}")
    if existing is not None:
        typer.echo(
            f"report {report.id} already existed for {case_id} ({report.incident_type}, {report.status}); "
            "it was written as built (new --type/--user-id/--ip/--media were not applied)",
            err=True,
        )
    for p in paths:
        typer.echo(f"wrote {p}")
    typer.echo(f"report {report.id}: {report.status}; evidence held until {report.hold_until.date().isoformat()}")


@report_app.command("submit")
def submit(
    report_id: Annotated[str, typer.Argument(help="The report (rpt_...)")],
    actor: ActorOpt,
    config: ConfigOpt = None,
) -> None:
    """Send a built report to reporting.endpoint (bearer token from $CHILDSAFE_REPORTING_TOKEN); never twice."""
    from childsafe.reporting import ReportingError

    who = _actor(actor)
    with _service(config) as service:
        report = service.get(report_id)
        if report.status == "submitted":
            typer.echo(f"report {report.id} was already submitted: reference {report.remote_id}")
            return
        missing = service.unsendable(report.id)
        if missing:
            fail(f"report {report.id} was built while {' and '.join(missing)} was a placeholder; it cannot be sent")
        adapter = service.submission_adapter(os.environ.get(TOKEN_ENV) or None)
        try:
            done = service.submit(report.id, adapter, actor=who)
        except ReportingError as exc:  # the receiver refused or could not be reached: recorded as failed
            fail(str(exc), code=1)
        finally:
            adapter.close()
    typer.echo(f"report {done.id} submitted: reference {done.remote_id}")


@report_app.command("mark-submitted")
def mark_submitted(
    report_id: Annotated[str, typer.Argument(help="The report (rpt_...)")],
    reference: Annotated[str, typer.Option("--reference", help="The receiver's reference number for the report")],
    actor: ActorOpt,
    config: ConfigOpt = None,
) -> None:
    """Record a report submitted outside childsafe (e.g. through the CyberTipline form) and its reference."""
    who = _actor(actor)
    with _service(config) as service:
        done = service.mark_submitted(report_id, reference, who)
    typer.echo(f"report {done.id} recorded as submitted: reference {done.remote_id}")
