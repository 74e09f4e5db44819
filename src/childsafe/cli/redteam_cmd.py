"""`childsafe redteam` and `childsafe audit-fairness`: stress-test the guard or a chat endpoint."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from childsafe.cli.common import err_console, fail
from childsafe.types import AgeBand, Category, ChildsafeError, InvalidInputError

if TYPE_CHECKING:
    from childsafe.engine import Engine
    from childsafe.eval.redteam.targets import Target

API_KEY_ENV = "CHILDSAFE_REDTEAM_API_KEY"
_KEY_HELP = f"Bearer key for a URL target (or ${API_KEY_ENV})"


def register(app: typer.Typer) -> None:
    app.command("redteam")(redteam)
    app.command("audit-fairness")(audit_fairness)


def _csv(value: str | None) -> list[str] | None:
    if value is None:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    return items or None


def _out_dir(out: Path) -> None:
    if out.exists() and not out.is_dir():
        fail(f"--out must be a folder, and {out} is a file")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail(f"cannot create output folder {out}: {exc}")
    if not os.access(out, os.W_OK):
        fail(f"output folder is not writable: {out}")


def _build_target(
    target: str, config: Path | None, api_key: str | None, model: str, concurrency: int, timeout: float
) -> tuple[Target, Engine]:
    """The guard (Engine.from_config) or an HTTP target judged by the guard; exits 2 on bad input."""
    from childsafe.config import load_config
    from childsafe.engine import Engine
    from childsafe.eval.redteam.targets import GuardTarget, HttpTarget, TargetError

    if target != "guard" and not target.startswith(("http://", "https://")):
        fail(f"--target must be 'guard' or an http(s) URL, got {target!r}")
    try:
        engine = Engine.from_config(load_config(config))
    except ChildsafeError as exc:
        fail(str(exc))
    unavailable = engine.warmup()
    for name, why in unavailable.items():
        err_console.print(
            f"[yellow]warning:[/] detector {name} unavailable ({why}); its checks fail closed", markup=True
        )
    if target == "guard":
        return GuardTarget(engine), engine
    try:
        http = HttpTarget(target, engine, api_key or os.environ.get(API_KEY_ENV), model, timeout, concurrency)
        http.check_reachable()
    except TargetError as exc:
        fail(str(exc))
    return http, engine


def redteam(
    out: Annotated[Path, typer.Option("--out", help="Folder for report.json, report.html, heatmap.png")],
    target: Annotated[
        str, typer.Option("--target", help="'guard' (the engine) or an OpenAI-compatible base URL (end to end)")
    ] = "guard",
    age: Annotated[str | None, typer.Option("--age", help="Age (11) or band (10-12) of the child")] = None,
    quick: Annotated[bool, typer.Option("--quick", help="Only the probes and items marked quick (CI subset)")] = False,
    transforms: Annotated[str | None, typer.Option("--transforms", help="Comma-separated transform names")] = None,
    categories: Annotated[str | None, typer.Option("--categories", help="Comma-separated categories")] = None,
    overblocking: Annotated[
        bool, typer.Option("--overblocking/--no-overblocking", help="Also run the over-blocking suite")
    ] = True,
    gate: Annotated[
        Path | None,
        typer.Option("--gate", help="Also run the CI gate with thresholds from this file; exit 1 on failure"),
    ] = None,
    config: Annotated[Path | None, typer.Option("--config", help="childsafe config YAML for the guard")] = None,
    data: Annotated[Path | None, typer.Option("--data", help="Folder with probes.yaml, overblocking.yaml")] = None,
    api_key: Annotated[str | None, typer.Option("--api-key", help=_KEY_HELP)] = None,
    model: Annotated[str, typer.Option("--model", help="Model name sent to a URL target")] = "childsafe-redteam",
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, max=64, help="Parallel requests (URL)")] = 4,
    timeout: Annotated[float, typer.Option("--timeout", min=0.1, help="Seconds per request (URL)")] = 60.0,
) -> None:
    """Run the red-team probe library (every probe x every transform) and the over-blocking suite."""
    from childsafe.eval.redteam.data import SuiteDataError
    from childsafe.eval.redteam.report import pct
    from childsafe.eval.redteam.suite import SuiteOptions, run_suites, write_reports
    from childsafe.eval.redteam.transforms import get_transforms

    try:
        band = AgeBand.parse(age) if age is not None else None
        cats = _csv(categories)
        for c in cats or []:
            Category.parse(c)
    except InvalidInputError as exc:
        fail(str(exc))
    try:
        get_transforms(_csv(transforms))
    except KeyError as exc:
        fail(str(exc.args[0]))
    if data is not None and not data.is_dir():
        fail(f"--data folder not found: {data}")
    _out_dir(out)
    gate_cfg = None
    if gate is not None:
        from childsafe.eval.redteam.gate import load_gate

        try:
            gate_cfg = load_gate(gate)
        except ChildsafeError as exc:
            fail(str(exc))
    tgt, engine = _build_target(target, config, api_key, model, concurrency, timeout)
    band = band or AgeBand.parse(engine.config.engine.default_age)
    opts = SuiteOptions(
        age=band, quick=quick, transforms=_csv(transforms), categories=cats, overblocking=overblocking, data_dir=data
    )
    try:
        summary, ob, candidates = run_suites(tgt, opts)
    except SuiteDataError as exc:
        fail(str(exc))
    if summary["summary"]["applicable"] == 0:
        fail("no probe could be run against this target (all errors or not applicable)", code=1)
    written = write_reports(out, summary, ob, candidates)
    s = summary["summary"]
    head = summary["headline"]
    kind = summary["target"]["target"]
    typer.echo(f"red-team ({kind}, age {band.value}): {s['cases']} cases in {s['elapsed_s']:.1f}s")
    typer.echo(f"  {head} (readable transforms): {pct(s['readable_rate'])}; stopped: {pct(s['readable_stopped_rate'])}")
    typer.echo(f"  lowest readable transform: {pct(s['min_readable_transform_rate'])} (target {pct(s['target_rate'])})")
    for name, row in summary["by_transform"].items():
        typer.echo(f"    {name:<13}{'' if row['readable'] else '*'} {pct(row['rate']):>7}")
    if s["errors"]:
        err_console.print(f"[yellow]warning:[/] {s['errors']} requests failed", markup=True)
    if s["failed_closed"]:
        err_console.print(
            f"[yellow]warning:[/] {s['failed_closed']} cases failed closed (a check could not complete); "
            "those are not counted as detections",
            markup=True,
        )
    if ob is not None and ob["summary"]["failed_closed"]:
        err_console.print(
            f"[yellow]warning:[/] {ob['summary']['failed_closed']} benign checks failed closed; "
            "they count as false blocks",
            markup=True,
        )
    if ob is not None:
        typer.echo(
            "  over-blocking (false-block rate per band): "
            + ", ".join(f"{b} {pct(r['false_block_rate'])}" for b, r in ob["by_band"].items())
        )
    typer.echo(f"  candidates for training: {len(candidates)}")
    typer.echo(f"report: {written['html']}")
    if gate_cfg is not None:
        from childsafe.eval.redteam.gate import run_gate

        result = run_gate(tgt, gate_cfg, data)
        typer.echo(result.text())
        if not result.passed:
            raise typer.Exit(1)


def audit_fairness(
    out: Annotated[Path, typer.Option("--out", help="Folder for fairness.json, fairness.html and plots")],
    max_disparity: Annotated[
        float, typer.Option("--max-disparity", min=0.0, max=1.0, help="Largest allowed FPR gap between groups")
    ] = 0.02,
    max_fnr_disparity: Annotated[
        float | None, typer.Option("--max-fnr-disparity", min=0.0, max=1.0, help="Also bound the FNR gap")
    ] = None,
    age: Annotated[str | None, typer.Option("--age", help="Age (11) or band (10-12) of the child")] = None,
    quick: Annotated[bool, typer.Option("--quick", help="Only the templates marked quick")] = False,
    target: Annotated[str, typer.Option("--target", help="'guard' or an OpenAI-compatible base URL")] = "guard",
    config: Annotated[Path | None, typer.Option("--config", help="childsafe config YAML for the guard")] = None,
    data: Annotated[Path | None, typer.Option("--data", help="Folder with fairness.yaml")] = None,
    api_key: Annotated[str | None, typer.Option("--api-key", help=_KEY_HELP)] = None,
) -> None:
    """Compare false-positive and false-negative rates across identity groups; exit 1 when a gap is too large."""
    from childsafe.eval.fairness.audit import run_audit, write_fairness_report
    from childsafe.eval.redteam.data import SuiteDataError
    from childsafe.eval.redteam.report import pct

    try:
        band = AgeBand.parse(age) if age is not None else None
    except InvalidInputError as exc:
        fail(str(exc))
    if data is not None and not data.is_dir():
        fail(f"--data folder not found: {data}")
    _out_dir(out)
    tgt, engine = _build_target(target, config, api_key, "childsafe-redteam", 4, 60.0)
    band = band or AgeBand.parse(engine.config.engine.default_age)
    try:
        summary, candidates = run_audit(
            tgt, band, data_dir=data, quick=quick, max_disparity=max_disparity, max_fnr_disparity=max_fnr_disparity
        )
    except SuiteDataError as exc:
        fail(str(exc))
    written = write_fairness_report(out, summary, candidates)
    s = summary["summary"]
    typer.echo(
        f"fairness audit (age {band.value}): {s['sentences']} sentences in {s['elapsed_s']:.1f}s; "
        f"FPR {pct(s['overall_fpr'])}, FNR {pct(s['overall_fnr'])}"
    )
    for dim, row in summary["dimensions"].items():
        typer.echo(f"  {dim:<20} FPR gap {pct(row['fpr_disparity']):>7}   FNR gap {pct(row['fnr_disparity']):>7}")
    typer.echo(
        f"largest FPR disparity {pct(s['largest_fpr_disparity'])} (bound {pct(max_disparity)}); "
        f"largest FNR disparity {pct(s['largest_fnr_disparity'])}"
        + ("" if max_fnr_disparity is None else f" (bound {pct(max_fnr_disparity)})")
    )
    typer.echo(f"report: {written['html']}")
    if not s["passed"]:
        err_console.print("[bold red]fairness audit failed:[/] a disparity exceeds its bound", markup=True)
        raise typer.Exit(1)


__all__ = ["audit_fairness", "redteam", "register"]
