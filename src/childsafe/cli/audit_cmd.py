"""`childsafe audit verify|export` and `childsafe feedback export`: oversight commands for operators and auditors."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer

from childsafe.cli.common import fail, open_services, open_store

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
        checkpoints: Annotated[
            Path | None,
            typer.Option(
                "--checkpoints",
                help="Checkpoint file the gateway shipped (default: audit-checkpoints.jsonl in audit.checkpoint_dir)",
            ),
        ] = None,
    ) -> None:
        """Check the whole hash chain, every signed checkpoint, and the shipped checkpoint file (which shows
        when the newest events were removed); exit 1 and name the first problem."""
        from childsafe.audit import AuditLog, load_public_key, load_signing_key
        from childsafe.audit.checkpoints import checkpoint_file_path, verify_shipped
        from childsafe.audit.settings import AuditSettings
        from childsafe.types import ChildsafeError

        cfg, store = open_store(config)
        try:
            if checkpoints is not None and not checkpoints.is_file():
                fail(f"no checkpoint file at {checkpoints}")
            settings = AuditSettings.from_config(cfg)
            if public_key is not None:
                log, pub = AuditLog(store.engine, None), load_public_key(public_key)
            else:
                key = load_signing_key(settings.signing_key, cfg.store.data_dir)
                log, pub = AuditLog(store.engine, key), key.public_key()
            report = log.verify(pub)
            shipped = verify_shipped(store.engine, checkpoints or checkpoint_file_path(cfg), pub, report)
        except ChildsafeError as exc:
            fail(str(exc))
        finally:
            store.close()
        summary = f"{report.events} events, {report.checkpoints} signed checkpoints; {shipped.summary()}"
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
        """Sign the newest event now and append it to the checkpoint file (run from cron so an idle log's tail is
        covered by a signature)."""
        from childsafe.audit import open_audit_log
        from childsafe.audit.checkpoints import open_shipper
        from childsafe.types import ChildsafeError

        cfg, store = open_store(config)
        try:
            audit_log = open_audit_log(store.engine, cfg)
            cp = audit_log.checkpoint()
            if cp is not None:
                open_shipper(audit_log, store.engine, cfg).ship()
        except ChildsafeError as exc:
            fail(str(exc))
        finally:
            store.close()
        typer.echo("audit log is empty" if cp is None else f"checkpoint signed at event #{cp.seq} (key {cp.key_id})")

    @audit.command("content-hmac")
    def content_hmac(
        config: ConfigOpt = None,
        text_file: Annotated[
            Path | None, typer.Option("--text-file", help="File holding the message (default: standard input)")
        ] = None,
    ) -> None:
        """Print the keyed digest (content_hmac) of a message, to find its decision events in the log.

        The log keeps no plain hash of a message (a short one could be guessed back); this needs the
        deployment's master key, as the gateway that wrote the events did."""
        import sys

        from childsafe.audit import ContentKey
        from childsafe.config import ConfigError, load_config
        from childsafe.types import ChildsafeError

        if config is not None and not config.exists():
            fail(f"config file not found: {config}")
        try:
            key = ContentKey.from_config(load_config(config))
            message = text_file.read_text(encoding="utf-8") if text_file is not None else sys.stdin.read()
        except (ConfigError, ChildsafeError) as exc:
            fail(str(exc))
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"cannot read the message: {getattr(exc, 'strerror', None) or exc}")
        message = message.removesuffix("\n")  # the newline a shell or editor adds is not part of the message
        typer.echo(json.dumps({"content_hmac": key.of_text(message), "content_key_id": key.key_id}))

    @audit.command("export")
    def export(
        out: Annotated[Path, typer.Option("--out", "-o", help="Output JSONL file")],
        from_: Annotated[str | None, typer.Option("--from", help="First event number or ISO date/time")] = None,
        to: Annotated[str | None, typer.Option("--to", help="Last event number or ISO date/time (inclusive)")] = None,
        config: ConfigOpt = None,
    ) -> None:
        """Write a range of events (with hashes) and the signed checkpoints in it as JSONL for auditors."""
        from childsafe.audit import AuditLog
        from childsafe.store.files import open_private

        from_seq, since = _bound(from_, "--from")
        to_seq, until = _bound(to, "--to")
        _cfg, store = open_store(config)
        log = AuditLog(store.engine, None)
        n = 0
        try:
            with open_private(out) as fh:
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
        from childsafe.store.files import open_private

        n = 0
        with open_services(config) as services:  # the consent ledger decides who is left out, as in the gateway
            try:
                with open_private(out) as fh:  # children's words: owner-only
                    for record in services.review.feedback_records():
                        fh.write(json.dumps(record, ensure_ascii=False) + "\n")
                        n += 1
            except OSError as exc:
                fail(f"cannot write {out}: {exc.strerror}")
        typer.echo(f"wrote {n} labelled examples to {out}")
