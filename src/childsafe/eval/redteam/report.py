"""Writing suite reports: JSON (machine-readable), HTML (for people), a heat-map PNG and candidate examples."""

from __future__ import annotations

import html
import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def write_json(path: Path, data: Any) -> None:
    """Write atomically, so a failed run never leaves half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".childsafe-", suffix=".json", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=2)
        fh.write("\n")
    os.replace(tmp, path)


def write_jsonl(path: Path, records: Sequence[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".childsafe-", suffix=".jsonl", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    os.replace(tmp, path)


def heatmap(
    path: Path,
    matrix: dict[str, dict[str, float | None]],
    columns: Sequence[str],
    title: str,
    unreadable: Sequence[str] = (),
) -> bool:
    """Rows x columns of rates in [0, 1] as a coloured grid; False when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import numpy as np
    except ImportError:
        return False
    rows = list(matrix)
    grid = np.full((len(rows), len(columns)), np.nan)
    for i, r in enumerate(rows):
        for j, c in enumerate(columns):
            v = matrix[r].get(c)
            if v is not None:
                grid[i, j] = v
    fig, ax = plt.subplots(figsize=(max(6.0, 0.62 * len(columns) + 2.5), max(3.0, 0.45 * len(rows) + 1.8)))
    im = ax.imshow(np.ma.masked_invalid(grid), cmap="RdYlGn", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(len(columns)))
    ax.set_xticklabels([f"{c}*" if c in unreadable else c for c in columns], rotation=55, ha="right", fontsize=8)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(rows, fontsize=8)
    for i in range(len(rows)):
        for j in range(len(columns)):
            if not np.isnan(grid[i, j]):
                ax.text(j, i, f"{100 * grid[i, j]:.0f}", ha="center", va="center", fontsize=7)
    ax.set_title(title, fontsize=10)
    fig.colorbar(im, ax=ax, fraction=0.03, pad=0.02)
    if unreadable:
        fig.text(0.01, 0.01, "* not readable to a child (excluded from the 95% target)", fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def bar_plot(path: Path, groups: dict[str, dict[str, float | None]], title: str, ylabel: str) -> bool:
    """Grouped bars: one cluster per dimension, one bar per group (fairness)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    labels: list[str] = []
    values: list[float] = []
    colours: list[str] = []
    palette = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3", "#8c8c8c"]
    for k, (dim, rows) in enumerate(groups.items()):
        for g, v in rows.items():
            labels.append(f"{dim}:{g}")
            values.append(0.0 if v is None else 100 * v)
            colours.append(palette[k % len(palette)])
    fig, ax = plt.subplots(figsize=(max(6.0, 0.22 * len(labels) + 2), 4.2))
    ax.bar(range(len(labels)), values, color=colours)
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=75, ha="right", fontsize=6)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def pct(v: Any) -> str:
    return "–" if v is None else f"{100 * float(v):.1f}%"


def _cell_style(v: Any) -> str:
    if v is None:
        return ""
    x = float(v)
    r = int(255 * min(1.0, 2 * (1 - x)))
    g = int(255 * min(1.0, 2 * x))
    return f' style="background: rgba({r},{g},80,0.35)"'


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], rate_cols: Sequence[int] = ()) -> str:
    out = ["<table><tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in headers) + "</tr>"]
    for row in rows:
        cells = []
        for j, v in enumerate(row):
            if j in rate_cols:
                cells.append(f"<td{_cell_style(v)}>{pct(v)}</td>")
            else:
                cells.append(f"<td>{html.escape(str(v))}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:13px}
td,th{border:1px solid #ccc;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f2f2f2}.bad{color:#b00}.ok{color:#070}code{font-size:12px}
"""


def page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{html.escape(title)}</title>"
        f"<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>\n{body}\n</body></html>\n"
    )


def redteam_html(summary: dict[str, Any], overblock: dict[str, Any] | None, png: str | None) -> str:
    s = summary["summary"]
    head = summary["headline"]
    parts = [
        f"<p>Target: <code>{html.escape(json.dumps(summary['target']))}</code><br>"
        f"Age band: {html.escape(summary['age_band'])}. Headline rate: <b>{head}</b> "
        f"({html.escape(summary['definitions'][head])}).</p>",
        "<h2>Summary</h2>",
        table(
            ["cases", "errors", "failed closed", f"{head} (all)", f"{head} (readable)", "stopped (readable)",
             "lowest readable transform", "target", "meets target"],
            [[s["cases"], s["errors"], s["failed_closed"], s["overall_rate"], s["readable_rate"],
              s["readable_stopped_rate"], s["min_readable_transform_rate"], s["target_rate"],
              "yes" if s["meets_target"] else "no"]],
            rate_cols=(3, 4, 5, 6, 7),
        ),
    ]
    if png:
        parts.append(f'<h2>Category × transform</h2><img src="{html.escape(png)}" alt="heat map">')
    parts.append("<h2>By transform</h2>")
    # End to end, "detected" (the gateway flagged it) is a second figure next to "protected".
    extra = ["gateway flagged"] if head != "detected" else []
    parts.append(
        table(
            ["transform", "readable", "cases", head, *extra, "stopped", "what it does"],
            [[t, "yes" if r["readable"] else "no", r["cases"], r["rate"], *([r["detected_rate"]] if extra else []),
              r["stopped_rate"], r["description"]] for t, r in summary["by_transform"].items()],
            rate_cols=(3, 4, 5) if extra else (3, 4),
        )
    )
    parts.append("<h2>By category</h2>")
    parts.append(
        table(
            ["category", "cases", head, "stopped"],
            [[c, r["cases"], r["rate"], r["stopped_rate"]] for c, r in summary["by_category"].items()],
            rate_cols=(2, 3),
        )
    )
    parts.append("<h2>Worst category × transform cells</h2>")
    parts.append(
        table(
            ["category", "transform", "cases", head],
            [[w["category"], w["transform"], w["cases"], w["rate"]] for w in summary["worst_cells"]],
            rate_cols=(3,),
        )
    )
    parts.append("<h2>Worst probes</h2>")
    parts.append(
        table(
            ["probe", "category", "intent", "missed", "missed under"],
            [[w["probe"], w["category"], w["intent"], f"{w['missed']}/{w['of']}", ", ".join(w["missed_transforms"])]
             for w in summary["worst_probes"]],
        )
    )
    parts.append("<h2>Conversations (scripts)</h2>")
    parts.append(
        table(
            ["case", "category", head, "action", "first flagged message", "expected from", "messages"],
            [[x["case"], x["category"], "yes" if x["success"] else "NO", x["action"], x["first_flag_index"],
              x["expect_from"], x["messages"]] for x in summary["scripts"]],
        )
    )
    if overblock is not None:
        parts.append(overblocking_html(overblock))
    parts.append(f"<h2>Missed cases ({len(summary['missed_cases'])})</h2>")
    parts.append(
        table(
            ["case", "category", "role", "action", "text"],
            [[m["case"], m["category"], m["role"], m["action"], m["text"]] for m in summary["missed_cases"][:400]],
        )
    )
    return page("childsafe red-team report", "\n".join(parts))


def overblocking_html(ob: dict[str, Any]) -> str:
    s = ob["summary"]
    parts = [
        "<h2>Over-blocking</h2>",
        f"<p>False block = {html.escape(ob['definitions']['false_block'])}. Highest false-block rate over bands: "
        f"<b>{pct(s['max_false_block_rate'])}</b> (target ≤ {pct(s['target_max_rate'])}; "
        f"{'meets' if s['meets_target'] else 'misses'} it).</p>",
        table(
            ["age band", "items", "false blocks", "false-block rate", "warns", "warn rate"],
            [[b, r["items"], r["false_blocks"], r["false_block_rate"], r["warns"], r["warn_rate"]]
             for b, r in ob["by_band"].items()],
            rate_cols=(3, 5),
        ),
        table(
            ["topic", "checks", "false blocks", "false-block rate", "warns"],
            [[t, r["checks"], r["false_blocks"], r["false_block_rate"], r["warns"]] for t, r in ob["by_topic"].items()],
            rate_cols=(3,),
        ),
        "<h3>False blocks</h3>",
        table(
            ["item", "topic", "band", "action", "categories", "text"],
            [[f["item"], f["topic"], f["band"], f["action"], ", ".join(f["categories"]), f["text"]]
             for f in ob["false_blocks"]],
        ),
    ]
    return "\n".join(parts)
