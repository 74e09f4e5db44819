"""Scan outputs: manifest.jsonl, remove.txt, hashes.jsonl, incident-report drafts, summary.json/.html."""

from __future__ import annotations

import base64
import html
import io
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from childsafe.scan.worker import ScanSettings
from childsafe.store.files import open_private, write_private

if TYPE_CHECKING:
    from childsafe.scan.runner import ScanResult

MANIFEST_KEYS = ("path", "status", "error", "matches", "nudity", "text_categories", "action")


def manifest_line(rec: dict[str, Any]) -> dict[str, Any]:
    """The public manifest record: exactly the documented keys."""
    return {k: rec[k] for k in MANIFEST_KEYS}


def incident_draft(rec: dict[str, Any], settings: ScanSettings, scan_time: str) -> dict[str, Any]:
    """A draft incident report for a hash match, with the fields of a CyberTipline-style report.

    It is a *draft*: a person must confirm the match before anything is reported; fields the scanner
    cannot know (reporting organisation, account, child's age) are left null for the reviewer.
    """
    h = rec.get("hashes") or {}
    details = rec.get("match_details") or []
    return {
        "report_format": "childsafe.incident_draft/1",
        "status": "draft_unconfirmed",
        "requires_human_confirmation": True,
        "incident_type": "child_sexual_abuse_material_suspected",
        "incident_summary": "Media in a scanned dataset matched a list of known child sexual abuse material hashes.",
        "incident_time": scan_time,
        "detected_by": {"tool": "childsafe scan", "method": "hash_match"},
        "reporting_organisation": {"name": None, "contact_name": None, "contact_email": None},
        "reported_account": None,
        "child_age_band": None,
        "content": [
            {
                "location": rec["path"],
                "file_size_bytes": h.get("size"),
                "hashes": {"md5": h.get("md5"), "sha1": h.get("sha1"), "sha256": h.get("sha256"), "pdq": h.get("pdq")},
                "pdq_quality": rec.get("pdq_quality"),
                "quarantine": rec.get("quarantine"),
            }
        ],
        "matches": [
            {
                **{k: d[k] for k in ("list", "list_version", "signal", "distance", "hash")},
                "list_metadata": d.get("metadata", {}),
                "pdq_threshold": settings.pdq_threshold if d["signal"] == "pdq" else 0,
            }
            for d in details
        ],
        "evidence_excerpts": [],
        "moderator_notes": "",
    }


def write_outputs(out: Path, results: Path, settings: ScanSettings, result: ScanResult) -> None:
    """Derive every public output from the checkpointed results file."""
    scan_time = datetime.now(UTC).isoformat(timespec="seconds")
    actions: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    categories: Counter[str] = Counter()
    distances: list[int] = []
    nudity: list[float] = []
    low_quality = 0
    matched = 0
    total = 0
    incidents = out / "incidents"
    with (
        results.open("r", encoding="utf-8") as src,
        open_private(out / "manifest.jsonl") as man,
        open_private(out / "remove.txt") as rem,
        open_private(out / "hashes.jsonl") as hashes,
    ):
        for line in src:
            rec = json.loads(line)
            total += 1
            man.write(json.dumps(manifest_line(rec), ensure_ascii=False) + "\n")
            actions[rec["action"]] += 1
            if rec["action"] == "remove":
                rem.write(rec["path"] + "\n")
            if rec["status"] == "error":
                errors[str(rec["error"]).split(":", 1)[0]] += 1
            categories.update(rec["text_categories"])
            if rec["nudity"] is not None:
                nudity.append(float(rec["nudity"]))
            low_quality += bool(rec.get("pdq_low_quality"))
            if rec.get("hashes"):
                hashes.write(
                    json.dumps(
                        {
                            "path": rec["path"],
                            **rec["hashes"],
                            "pdq_quality": rec.get("pdq_quality"),
                            "pdq_matchable": not rec.get("pdq_low_quality"),
                        }
                    )
                    + "\n"
                )
            if rec["matches"]:
                matched += 1
                distances.extend(m["distance"] for m in rec["matches"] if m["signal"] == "pdq")
                incidents.mkdir(exist_ok=True)
                name = (rec.get("hashes") or {}).get("sha256") or f"item{total}"
                write_private(
                    incidents / f"{name[:32]}.json", json.dumps(incident_draft(rec, settings, scan_time), indent=2)
                )
    result.total = total
    result.errors = sum(errors.values())
    result.actions = dict(actions)
    result.matched = matched
    summary = {
        "scan_time": scan_time,
        "items": total,
        "scanned_this_run": result.scanned_now,
        "resumed_from_checkpoint": result.resumed,
        "seconds_this_run": round(result.seconds, 3),
        "items_per_second": round(result.items_per_second, 2),
        "actions": dict(actions),
        "errors": dict(errors),
        "hash_matched_items": matched,
        "pdq_low_quality_items": low_quality,
        "text_categories": dict(categories),
        "nudity": result.nudity_status,
        "settings": {
            "pdq_threshold": settings.pdq_threshold,
            "nudity_review": settings.nudity_review,
            "nudity_remove": settings.nudity_remove,
            "text": settings.text,
            "text_age": settings.text_age,
        },
        "hash_lists": [hl.summary() for hl in settings.lists],
        "invalid_list_lines": {hl.name: [str(e) for e in hl.errors[:50]] for hl in settings.lists if hl.errors},
    }
    write_private(out / "summary.json", json.dumps(summary, indent=2))
    write_private(out / "summary.html", _html(summary, distances, nudity, settings))


def _plot(fn: Any) -> str:
    """Run a matplotlib drawing function and return the figure as a base64 PNG <img>, or a note."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "<p><em>matplotlib is not installed: plots skipped.</em></p>"
    fig, ax = plt.subplots(figsize=(5.5, 3.2), dpi=100)
    try:
        title = fn(ax)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
    finally:
        plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode()
    return f'<img alt="{html.escape(title)}" src="data:image/png;base64,{data}">'


def _bar(counts: dict[str, int], title: str, color: str) -> Any:
    def draw(ax: Any) -> str:
        keys = list(counts) or ["(none)"]
        ax.bar(keys, [counts.get(k, 0) for k in keys], color=color)
        ax.set_title(title)
        ax.set_ylabel("items")
        ax.tick_params(axis="x", rotation=30)
        return title

    return draw


def _hist(values: list[float], bins: Any, title: str, xlabel: str, vline: float | None) -> Any:
    def draw(ax: Any) -> str:
        ax.hist(values, bins=bins, color="#4c72b0")
        if vline is not None:
            ax.axvline(vline, color="#c44e52", linestyle="--", label=f"threshold {vline:g}")
            ax.legend()
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("count")
        return title

    return draw


def _table(counts: dict[str, Any]) -> str:
    if not counts:
        return "<p>none</p>"
    rows = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(str(v))}</td></tr>" for k, v in counts.items())
    return f"<table><tbody>{rows}</tbody></table>"


def _html(summary: dict[str, Any], distances: list[int], nudity: list[float], settings: ScanSettings) -> str:
    order = {"remove": 0, "review": 1, "keep": 2}
    actions = dict(sorted(summary["actions"].items(), key=lambda kv: order.get(kv[0], 9)))
    plots = [
        _plot(_bar(actions, "Actions", "#55a868")),
        _plot(_bar(summary["text_categories"], "Text categories flagged", "#dd8452")),
        _plot(
            _hist(
                [float(d) for d in distances],
                list(range(0, settings.pdq_threshold + 2)),
                "PDQ match distances",
                "Hamming distance (bits)",
                float(settings.pdq_threshold),
            )
        ),
        _plot(_hist(nudity, [i / 20 for i in range(21)], "Nudity scores", "P(nudity)", settings.nudity_review)),
    ]
    lists = "".join(
        f"<tr><td>{html.escape(hl['name'])}</td><td>{html.escape(hl['version'])}</td><td>{hl['entries']}</td>"
        f"<td>{html.escape(json.dumps(hl['by_signal']))}</td><td>{hl['invalid_lines']}</td></tr>"
        for hl in summary["hash_lists"]
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>childsafe scan summary</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.25rem .6rem;text-align:left}}
.plots img{{margin:.5rem;border:1px solid #eee}}</style>
</head><body>
<h1>childsafe scan summary</h1>
<p>{summary["items"]} items; scanned this run: {summary["scanned_this_run"]}
({summary["items_per_second"]} items/s); resumed from checkpoint: {summary["resumed_from_checkpoint"]};
scan time {html.escape(summary["scan_time"])}.</p>
<h2>Actions</h2>{_table(actions)}
<p>Hash-matched items: {summary["hash_matched_items"]} (incident-report drafts in <code>incidents/</code>);
PDQ quality below 50 (recorded, not matched): {summary["pdq_low_quality_items"]}.</p>
<h2>Errors</h2>{_table(summary["errors"])}
<h2>Text categories</h2>{_table(summary["text_categories"])}
<h2>Nudity</h2><p>{html.escape(summary["nudity"])}</p>
<h2>Hash lists</h2><table><thead><tr><th>name</th><th>version</th><th>entries</th><th>by signal</th>
<th>invalid lines</th></tr></thead><tbody>{lists}</tbody></table>
<h2>Plots</h2><div class="plots">{"".join(plots)}</div>
</body></html>
"""
