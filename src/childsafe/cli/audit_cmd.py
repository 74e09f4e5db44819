"""`childsafe audit verify|export` and `childsafe feedback export`: oversight commands for operators and auditors."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer

from childsafe.cli.common import fail, open_store

ConfigOpt = Annotated[
    Path | None, typer.Option("--config", "-c", help="Config file (YAML); default: $CHILDSAFE_CONFIG or built-in")
]


def _bound(value: str | None, option: str) -> tuple[int | None, datetime | None]:
    """An export bound: a sequence number, or an ISO date/datetime (UTC when no zone is given)."""
    if value is None:
        return None, None
    if value.isdigit():
        return int(value), None
    try:
        if len(value) == 10:
            d = date.fromisoformat(value)
            return None, datetime(d.year, d.month, d.day, tzinfo=UTC)
        at = datetime.fromisoformat(value)
    except ValueError:
        fail(f"{option} must be an event number or an ISO date/time (2026-01-31 or 2026-01-31T12:00), got {value!r}")
    return None, at if at.tzinfo else at.replace(tzinfo=UTC)


def register(app: typer.Typer) -> None:
    audit = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
    feedback = typer.Typer(help="Moderator outcomes as labelled examples.", no_args_is_help=True)
    app.add_typer(audit, name="audit")
    app.add_typer(feedback, name="feedback")

    @audit.command("verify")
    def verify(
        config: ConfigOpt = None,
        public_key: Annotated[
            Path | None, typer.Option("--public-key", help="Checkpoint public key file (default: the local key)")
        ] = None,
    ) -> None:
        """Check the whole hash chain and every signed checkpoint; exit 1 and name the first tampered event."""
        from childsafe.audit import AuditLog, load_public_key, load_signing_key
        from childsafe.audit.settings import AuditSettings
        from childsafe.types import ChildsafeError

        cfg, store = open_store(config)
        try:
            settings = AuditSettings.from_config(cfg)
            if public_key is not None:
                log, pub = AuditLog(store.engine, None), load_public_key(public_key)
            else:
                log = AuditLog(store.engine, load_signing_key(settings.signing_key, cfg.store.data_dir))
                pub = None
            report = log.verify(pub)
        except ChildsafeError as exc:
            fail(str(exc))
        finally:
            store.close()
        summary = f"{report.events} events, {report.checkpoints} signed checkpoints"
        if report.ok:
            tail = f"; {report.unsigned_tail} newest events not yet under a checkpoint" if report.unsigned_tail else ""
            typer.echo(f"audit log OK: {summary}{tail}")
            return
        first = report.first
        assert first is not None
        typer.echo(f"audit log TAMPERED ({summary}): first problem: {first.kind}: {first.message}")
        for p in sorted(report.problems, key=lambda p: p.seq)[1:20]:
            typer.echo(f"  also: {p.kind}: {p.message}")
        raise typer.Exit(1)

    @audit.command("checkpoint")
    def checkpoint(config: ConfigOpt = None) -> None:
        """Sign the newest event now (run from cron so an idle log's tail is covered by a signature)."""
        from childsafe.audit import open_audit_log
        from childsafe.types import ChildsafeError

        cfg, store = open_store(config)
        try:
            cp = open_audit_log(store.engine, cfg).checkpoint()
        except ChildsafeError as exc:
            fail(str(exc))
        finally:
            store.close()
        typer.echo("audit log is empty" if cp is None else f"checkpoint signed at event #{cp.seq} (key {cp.key_id})")

    @audit.command("export")
    def export(
        out: Annotated[Path, typer.Option("--out", "-o", help="Output JSONL file")],
        from_: Annotated[str | None, typer.Option("--from", help="First event number or ISO date/time")] = None,
        to: Annotated[str | None, typer.Option("--to", help="Last event number or ISO date/time (inclusive)")] = None,
        config: ConfigOpt = None,
    ) -> None:
        """Write a range of events (with hashes) and the signed checkpoints in it as JSONL for auditors."""
        from childsafe.audit import AuditLog

        from_seq, since = _bound(from_, "--from")
        to_seq, until = _bound(to, "--to")
        _cfg, store = open_store(config)
        log = AuditLog(store.engine, None)
        n = 0
        try:
            with out.open("w", encoding="utf-8") as fh:
                seqs: list[int] = []
                for rec in log.records(from_seq=from_seq, to_seq=to_seq, since=since, until=until):
                    fh.write(json.dumps(rec.to_json(), ensure_ascii=False) + "\n")
                    seqs.append(rec.seq)
                    n += 1
                if seqs:
                    for cp in log.checkpoints():
                        if seqs[0] <= cp.seq <= seqs[-1]:
                            fh.write(json.dumps(cp.to_json()) + "\n")
        except OSError as exc:
            fail(f"cannot write {out}: {exc.strerror}")
        finally:
            store.close()
        typer.echo(f"wrote {n} events to {out}")

    @feedback.command("export")
    def feedback_export(
        out: Annotated[Path, typer.Option("--out", "-o", help="Output JSONL file (shared dataset format)")],
        config: ConfigOpt = None,
    ) -> None:
        """Confirmed and overturned cases as labelled examples: id, text, labels, source."""
        from childsafe.review import ReviewService

        cfg, store = open_store(config)
        try:
            service = ReviewService.from_store(store, cfg)
            n = 0
            with out.open("w", encoding="utf-8") as fh:
                for record in service.feedback_records():
                    fh.write(json.dumps(record, ensure_ascii=False) + "\n")
                    n += 1
        except OSError as exc:
            fail(f"cannot write {out}: {exc.strerror}")
        finally:
            store.close()
        typer.echo(f"wrote {n} labelled examples to {out}")
