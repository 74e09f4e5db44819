"""`childsafe data ...` (export, erase, purge, rectify, legal holds) and `childsafe consent ...` (the ledger)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from childsafe.cli.common import fail, open_services

if TYPE_CHECKING:
    from childsafe.privacy.service import PrivacyServices

data_app = typer.Typer(help="Children's data rights: export, erase, rectify, retention purge, legal holds.")
consent_app = typer.Typer(help="The consent ledger: guardians, grants and withdrawals per purpose.")

ConfigOpt = Annotated[
    Path | None, typer.Option("--config", "-c", help="Config file (YAML); default: $CHILDSAFE_CONFIG or built-in")
]
ChildArg = Annotated[str, typer.Argument(help="The child's pseudonymous id (ch_...)")]
ActorOpt = Annotated[str, typer.Option("--actor", help="Who is doing this, for the audit trail")]


def register(app: typer.Typer) -> None:
    app.add_typer(data_app, name="data", no_args_is_help=True)
    app.add_typer(consent_app, name="consent", no_args_is_help=True)


@contextmanager
def _services(config: Path | None) -> Iterator[PrivacyServices]:
    """The privacy services of the deployment, wired by ``childsafe.services`` as in the gateway (privacy events
    into the audit chain, erasure reaching the review cases); clear errors, exit code 2, never a traceback."""
    with open_services(config) as services:
        yield services.privacy


# -- data --------------------------------------------------------------------------------------------------


@data_app.command("export")
def export(
    child: ChildArg,
    config: ConfigOpt = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the JSON export here (default: stdout)")
    ] = None,
    summary: Annotated[
        Path | None, typer.Option("--summary", help="Also write the readable Markdown summary to this file")
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="stdout format when --out is not given: json or summary")
    ] = "json",
    actor: ActorOpt = "operator:cli",
) -> None:
    """Export everything stored about CHILD (JSON, plus an optional readable summary)."""
    from childsafe.privacy.rights import render_summary
    from childsafe.store.files import write_private
    from childsafe.types import InvalidInputError

    if fmt not in ("json", "summary"):
        fail(f"--format must be 'json' or 'summary', got {fmt!r}")
    with _services(config) as s:
        try:
            data = s.rights.export(child, actor)
        except InvalidInputError as exc:
            fail(str(exc))
    text = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True)
    readable = render_summary(data)
    try:
        if out is not None:  # the child's data: owner-only files
            write_private(out, text + "\n")
        if summary is not None:
            write_private(summary, readable)
    except OSError as exc:
        fail(f"cannot write the export: {exc.strerror}")
    if out is None:
        typer.echo(readable if fmt == "summary" else text)
    else:
        typer.echo(
            f"exported child {child}: {len(data['messages'])} messages, {len(data['decisions'])} decisions -> {out}"
        )


@data_app.command("erase")
def erase(
    child: ChildArg,
    config: ConfigOpt = None,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: erasure is permanent")] = False,
    actor: ActorOpt = "operator:cli",
) -> None:
    """Erase CHILD: delete every row and destroy the child's key (evidence under a legal hold is kept)."""
    from childsafe.types import InvalidInputError

    if not yes:
        fail("erasure is permanent and cannot be undone; re-run with --yes to erase this child's data")
    with open_services(config) as services:
        try:
            report = services.erase_child(child, actor)
        except InvalidInputError as exc:
            fail(str(exc))
    typer.echo(json.dumps(report.to_dict(), indent=2, sort_keys=True))


@data_app.command("purge")
def purge(config: ConfigOpt = None) -> None:
    """Delete data older than its retention period (per data kind; see privacy.retention)."""
    with _services(config) as s:
        counts = s.purge(actor="operator:cli")
        retention = s.settings.retention.model_dump()
    typer.echo(json.dumps({"deleted": counts, "retention_days": retention}, indent=2, sort_keys=True))


@data_app.command("rectify")
def rectify(
    child: ChildArg,
    age: Annotated[str, typer.Option("--age", help="Correct age or age band, e.g. 13 or 13-15")],
    config: ConfigOpt = None,
    actor: ActorOpt = "operator:cli",
) -> None:
    """Correct CHILD's age band."""
    from childsafe.types import InvalidInputError

    with _services(config) as s:
        try:
            band = s.rights.rectify_age_band(child, age, actor)
        except InvalidInputError as exc:
            fail(str(exc))
    typer.echo(f"child {child}: age band {band}")


@data_app.command("hold")
def hold(
    child: ChildArg,
    reference: Annotated[str, typer.Option("--reference", help="The incident report id")],
    reason: Annotated[str, typer.Option("--reason", help="Why the evidence is held")] = "",
    config: ConfigOpt = None,
    actor: ActorOpt = "operator:cli",
) -> None:
    """Place a legal hold: keep CHILD's current evidence for an incident report, even through erasure."""
    from childsafe.types import InvalidInputError

    with _services(config) as s:
        try:
            record = s.rights.place_hold(child, reference, reason, actor)
        except InvalidInputError as exc:
            fail(str(exc))
    typer.echo(json.dumps(record.to_dict(), indent=2, sort_keys=True))


@data_app.command("release")
def release(
    hold_id: Annotated[str, typer.Argument(help="The hold id (hold_...)")],
    config: ConfigOpt = None,
    actor: ActorOpt = "operator:cli",
) -> None:
    """Release a legal hold: its copied evidence is deleted, the hold record stays."""
    with _services(config) as s:
        if not s.rights.release_hold(hold_id, actor):
            fail(f"no active legal hold {hold_id!r}")
    typer.echo(f"released {hold_id}")


# -- consent ----------------------------------------------------------------------------------------------


@consent_app.command("show")
def consent_show(child: ChildArg, config: ConfigOpt = None) -> None:
    """Show the purposes in force for CHILD and the ledger history."""
    with _services(config) as s:
        if s.data.child(child) is None:
            fail(f"no stored child with id {child!r}")
        state = s.consent.state(child).to_dict()
        state["history"] = [e.to_dict() for e in s.consent.history(child)]
    typer.echo(json.dumps(state, indent=2, sort_keys=True))


def _record(
    config: Path | None,
    child: str,
    purpose: str,
    granted: bool,
    guardian: str | None,
    method: str,
    assent: bool | None,
    notice: str | None,
) -> None:
    from childsafe.types import InvalidInputError

    with _services(config) as s:
        record = s.data.child(child)
        if record is None:
            fail(f"no stored child with id {child!r}")
        if guardian is not None and s.guardians.guardian_of(child) != guardian:
            fail(f"guardian {guardian!r} is not the guardian of child {child!r}")
        try:
            entry = s.consent.record(
                child,
                record.age_band,
                purpose,
                granted,
                guardian_id=guardian,
                method=method,
                notice_version=notice,
                child_assent=assent,
            )
        except InvalidInputError as exc:
            fail(str(exc))
    typer.echo(json.dumps(entry.to_dict(), indent=2, sort_keys=True))


GuardianOpt = Annotated[str | None, typer.Option("--guardian", help="The guardian's id (gd_...)")]
AssentOpt = Annotated[
    bool | None, typer.Option("--assent/--no-assent", help="The child's own answer (asked from age 10)")
]


@consent_app.command("grant")
def consent_grant(
    child: ChildArg,
    purpose: Annotated[str, typer.Argument(help="safety_checking, conversation_storage, human_review, analytics, ...")],
    guardian: GuardianOpt = None,
    method: Annotated[str, typer.Option("--method", help="How consent was verified")] = "signed_form",
    assent: AssentOpt = None,
    notice: Annotated[str | None, typer.Option("--notice", help="Privacy notice version")] = None,
    config: ConfigOpt = None,
) -> None:
    """Record a guardian's consent for one purpose."""
    _record(config, child, purpose, True, guardian, method, assent, notice)


@consent_app.command("withdraw")
def consent_withdraw(
    child: ChildArg,
    purpose: Annotated[str, typer.Argument(help="The purpose to withdraw")],
    guardian: GuardianOpt = None,
    method: Annotated[str, typer.Option("--method", help="How the withdrawal was received")] = "guardian_account",
    config: ConfigOpt = None,
) -> None:
    """Withdraw consent for one purpose (in force from the next request)."""
    _record(config, child, purpose, False, guardian, method, None, None)


@consent_app.command("guardian-add")
def guardian_add(
    name: Annotated[str, typer.Argument(help="The guardian's display name")],
    child: Annotated[list[str] | None, typer.Option("--child", help="A child id to link (repeatable)")] = None,
    config: ConfigOpt = None,
) -> None:
    """Create a guardian account, link children, and print its API token (shown only once)."""
    if not name.strip():
        fail("the guardian needs a display name")
    with _services(config) as s:
        for c in child or []:
            if s.data.child(c) is None:
                fail(f"no stored child with id {c!r}")
        guardian, token = s.create_guardian(name.strip(), "operator:cli")
        for c in child or []:
            try:
                s.link_child(guardian.id, c, "operator:cli")
            except PermissionError as exc:  # another guardian already, or a child of another app
                fail(f"child {c!r}: {exc}")
    typer.echo(json.dumps({"guardian_id": guardian.id, "token": token, "children": child or []}, indent=2))
