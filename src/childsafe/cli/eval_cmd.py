"""`childsafe eval`: childsafe and its peers on a labelled JSONL data set, side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from childsafe.cli.common import fail
from childsafe.types import ChildsafeError


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_)


def eval_(
    dataset: Annotated[Path, typer.Option("--dataset", help="JSONL in the shared data-set format (.jsonl or .gz)")],
    age: Annotated[str | None, typer.Option("--age", help="Age in years (11) or band (10-12, adult)")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write report.md, report.json, pr_curve.png here")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Use only the first N records")] = None,
    model_dir: Annotated[str | None, typer.Option("--model-dir", help="Classifier artifact to evaluate")] = None,
    obfuscation: Annotated[int, typer.Option("--obfuscation", min=0, help="Records for the obfuscation test")] = 300,
) -> None:
    """Per-category and overall precision, recall, F1, AUPRC, FPR on safe, and latency, with peers."""
    from childsafe.eval.run import run_eval

    if not dataset.is_file():
        fail(f"dataset file not found: {dataset}")
    try:
        report = run_eval(dataset, age=age, out_dir=out, limit=limit, model_dir=model_dir, obfuscation=obfuscation)
    except ChildsafeError as exc:
        fail(str(exc))
    typer.echo(report["markdown"])
    if out is not None:
        typer.echo(f"wrote {out / 'report.md'}, {out / 'report.json'}" + (", pr_curve.png" if "plot" in report else ""))
