"""`childsafe check`: check one text, or a JSONL file of texts and conversations (streamed)."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn
from rich.table import Table

from childsafe.cli.common import err_console, fail
from childsafe.config import ConfigError, load_config
from childsafe.engine import Engine
from childsafe.text.language import SUPPORTED
from childsafe.types import AgeBand, ChildsafeError, Decision, InvalidInputError, Message, Role

_BATCH = 64


class RecordError(ChildsafeError):
    """A line of the input file is not a valid record; the message names the line."""


def register(app: typer.Typer) -> None:
    app.command("check")(check)


def check(
    text: Annotated[str | None, typer.Argument(help="Text to check (omit with --file)")] = None,
    age: Annotated[str | None, typer.Option("--age", help="Age in years (11) or band (10-12, adult)")] = None,
    role: Annotated[
        str,
        typer.Option(
            "--role",
            help="Who wrote it: child, contact, assistant, system (with --file: for text records "
            "without their own 'role')",
        ),
    ] = "child",
    as_json: Annotated[bool, typer.Option("--json", help="Print the machine-readable record")] = False,
    file: Annotated[Path | None, typer.Option("--file", help="JSONL input: {id, text} or {id, messages}")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="JSONL output (with --file)")] = None,
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="Record invalid lines in OUT.errors.jsonl and go on")
    ] = False,
    config: Annotated[Path | None, typer.Option("--config", help="Config YAML")] = None,
    language: Annotated[
        str | None,
        typer.Option(
            "--language",
            help="The child's language (en, es, fr, de, pt, it, ar, hi, zh, ru, tr): short "
            "or unsure text is read as it; default: the config's language",
        ),
    ] = None,
) -> None:
    """Check a message (or a file of messages and conversations) and print the decision."""
    try:
        band = AgeBand.parse(age) if age is not None else None
        r = Role.parse(role)
    except InvalidInputError as exc:
        fail(str(exc))
    if language is not None and language not in SUPPORTED:
        fail(f"unknown --language {language!r}; supported: {', '.join(SUPPORTED)}")
    if file is None and text is None:
        fail("give a TEXT to check, or --file IN.jsonl --out OUT.jsonl")
    if file is not None and text is not None:
        fail("give either a TEXT or --file, not both")
    if file is not None and out is None:
        fail("--file needs --out OUT.jsonl")
    try:
        cfg = load_config(config)
        engine = Engine.from_config(cfg)
    except ChildsafeError as exc:
        fail(str(exc))
    unavailable = engine.warmup()
    for name, why in unavailable.items():
        err_console.print(f"[yellow]warning:[/] detector {name} unavailable ({why}); content will be blocked")
    if file is not None:
        assert out is not None
        _check_file(engine, file, out, band, skip_invalid, language, role=r)
        return
    assert text is not None
    decision = engine.check(text, age=band, role=r, language=language)
    if as_json:
        sys.stdout.write(json.dumps(decision.to_record(), ensure_ascii=False) + "\n")
    else:
        _print_human(decision)


def _print_human(d: Decision) -> None:
    console = Console(highlight=False)
    colour = {"allow": "green", "warn": "yellow", "redact": "yellow"}.get(d.action.value, "red")
    console.print(
        f"action: [bold {colour}]{d.action.value}[/]  (age band {d.age_band.value}, role {d.role.value}, "
        f"language {d.language})"
    )
    if d.categories:
        console.print("flagged: " + ", ".join(c.value for c in d.categories))
    table = Table(show_header=True, header_style="bold")
    table.add_column("category")
    table.add_column("score", justify="right")
    for c, s in sorted(d.scores.items(), key=lambda kv: -kv[1]):
        if s > 0:
            table.add_row(c.value, f"{s:.2f}")
    if table.row_count:
        console.print(table)
    for reason in d.reasons:
        console.print(f"reason: {reason}", markup=False)
    if d.child_message:
        console.print(f"to the child: {d.child_message}", markup=False)
    if d.redacted_text is not None:
        console.print(f"redacted: {d.redacted_text}", markup=False)


def _parse_record(line: str, lineno: int, source: str) -> dict[str, Any]:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise RecordError(f"{source} line {lineno}: invalid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(obj, dict):
        raise RecordError(f"{source} line {lineno}: a record must be a JSON object")
    has_text = "text" in obj
    has_messages = "messages" in obj
    if not has_text and not has_messages:
        raise RecordError(f"{source} line {lineno}: record has neither 'text' nor 'messages'")
    if has_text and not isinstance(obj["text"], str):
        raise RecordError(f"{source} line {lineno}: 'text' must be a string")
    if has_messages:
        msgs = obj["messages"]
        if not isinstance(msgs, list) or not msgs:
            raise RecordError(f"{source} line {lineno}: 'messages' must be a non-empty list")
        try:
            obj["messages"] = [Message.parse(m) for m in msgs]
        except InvalidInputError as exc:
            raise RecordError(f"{source} line {lineno}: {exc}") from None
    if "age" in obj and obj["age"] is not None:
        try:
            obj["age"] = AgeBand.parse(obj["age"])
        except InvalidInputError as exc:
            raise RecordError(f"{source} line {lineno}: {exc}") from None
    if "role" in obj:
        try:
            obj["role"] = Role.parse(str(obj["role"]))
        except InvalidInputError as exc:
            raise RecordError(f"{source} line {lineno}: {exc}") from None
    return obj


def _lines(path: Path) -> Iterator[tuple[int, str, int]]:
    """(line number, line, bytes consumed) streamed from ``path``."""
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise RecordError(f"{path} line {lineno}: not valid UTF-8") from None
            yield lineno, line, len(raw)


def _out_record(rec: dict[str, Any], d: Decision, with_flag: bool) -> str:
    out: dict[str, Any] = {"id": rec.get("id")}
    out.update(d.to_record())
    if with_flag:
        out["first_flag_index"] = d.first_flag_index
    return json.dumps(out, ensure_ascii=False)


def _check_file(
    engine: Engine,
    path: Path,
    out: Path,
    band: AgeBand | None,
    skip_invalid: bool,
    language: str | None = None,
    *,
    role: Role = Role.CHILD,
) -> None:
    """Check every record of ``path`` into ``out``; ``band`` and ``role`` (the command's ``--age`` and ``--role``)
    apply to records that do not give their own ``age`` or ``role``."""
    if not path.exists():
        fail(f"input file not found: {path}")
    if path.is_dir():
        fail(f"input is a directory, not a file: {path}")
    if not os.access(path, os.R_OK):
        fail(f"input file is not readable: {path}")
    if out.resolve() == path.resolve():
        fail("--out must not be the input file")
    out_dir = out.parent if str(out.parent) else Path(".")
    if not out_dir.exists():
        fail(f"output folder does not exist: {out_dir}")
    # Write to a temporary file and rename at the end, so a failed run never destroys an earlier output.
    fd, tmp_name = tempfile.mkstemp(prefix=".childsafe-", suffix=".jsonl", dir=out_dir)
    errors_path = out.with_name(out.name + ".errors.jsonl")
    n_ok = n_bad = 0
    size = max(1, path.stat().st_size)
    progress = Progress(
        TextColumn("checking"),
        BarColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    )
    pending: list[tuple[dict[str, Any], str]] = []
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh, progress:
            task = progress.add_task("check", total=size)
            err_fh = None

            def flush() -> None:
                nonlocal n_ok
                if not pending:
                    return
                groups: dict[tuple[AgeBand | None, Role], list[int]] = {}
                for k, (rec, _) in enumerate(pending):
                    groups.setdefault((rec.get("age", band), rec.get("role", role)), []).append(k)
                results: list[Decision | None] = [None] * len(pending)
                for (b, r), idx in groups.items():
                    batch = engine.check_batch([pending[k][1] for k in idx], age=b, role=r, language=language)
                    for k, d in zip(idx, batch, strict=True):
                        results[k] = d
                for (rec, _), res in zip(pending, results, strict=True):
                    assert res is not None
                    fh.write(_out_record(rec, res, False) + "\n")
                    n_ok += 1
                pending.clear()

            for lineno, line, nbytes in _lines(path):
                progress.advance(task, nbytes)
                if not line.strip():
                    continue
                try:
                    rec = _parse_record(line, lineno, str(path))
                except RecordError as exc:
                    if not skip_invalid:
                        raise
                    n_bad += 1
                    if err_fh is None:
                        err_fh = errors_path.open("w", encoding="utf-8")
                    err_fh.write(json.dumps({"line": lineno, "error": str(exc)}) + "\n")
                    continue
                if "messages" in rec:
                    flush()
                    d = engine.check_messages(rec["messages"], age=rec.get("age", band), language=language)
                    fh.write(_out_record(rec, d, True) + "\n")
                    n_ok += 1
                else:
                    pending.append((rec, rec["text"]))
                    if len(pending) >= _BATCH:
                        flush()
            flush()
            if err_fh is not None:
                err_fh.close()
        os.replace(tmp_name, out)
    except RecordError as exc:
        _cleanup(tmp_name)
        fail(f"{exc} (use --skip-invalid to record bad lines and go on)")
    except OSError as exc:
        _cleanup(tmp_name)
        fail(f"cannot read or write: {exc}")
    except BaseException:
        _cleanup(tmp_name)
        raise
    summary = f"checked {n_ok} records -> {out}"
    if n_bad:
        summary += f"; {n_bad} invalid lines recorded in {errors_path}"
    err_console.print(summary, markup=False)


def _cleanup(name: str) -> None:
    try:
        os.unlink(name)
    except OSError:
        pass


__all__ = ["ConfigError", "check", "register"]
