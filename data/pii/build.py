"""Build dev.jsonl and test.jsonl from the marked-up sources (run: python data/pii/build.py).

Each output line: {"id", "role", "text", "entities": [{"start", "end", "type", "text"}]} with character
offsets into "text". The sources mark gold entities inline as {type:exact text}.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

TYPES = {
    "full_name", "name", "address", "street", "postcode", "school", "phone", "email", "handle",
    "location", "coordinates", "date_of_birth", "age", "photo_request",
}
MARK = re.compile(r"\{([a-z_]+):([^{}]+)\}")


def convert(src: Path) -> list[dict[str, object]]:
    records: list[dict[str, object]] = []
    for lineno, line in enumerate(src.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        role, _, marked = line.partition("\t")
        if role not in ("child", "contact", "assistant") or not marked:
            sys.exit(f"{src.name}:{lineno}: expected ROLE<TAB>TEXT")
        text, entities, pos = [], [], 0
        out_len = 0
        for m in MARK.finditer(marked):
            if m.group(1) not in TYPES:
                sys.exit(f"{src.name}:{lineno}: unknown type {m.group(1)!r}")
            plain = marked[pos : m.start()]
            text.append(plain)
            out_len += len(plain)
            value = m.group(2)
            entities.append({"start": out_len, "end": out_len + len(value), "type": m.group(1), "text": value})
            text.append(value)
            out_len += len(value)
            pos = m.end()
        text.append(marked[pos:])
        records.append({"id": f"{src.stem}-{len(records) + 1:03d}", "role": role, "text": "".join(text),
                        "entities": entities})
    return records


def main() -> None:
    here = Path(__file__).resolve().parent
    for name in ("dev", "test", "fresh", "fresh2"):
        recs = convert(here / f"{name}.src")
        with (here / f"{name}.jsonl").open("w", encoding="utf-8") as fh:
            for r in recs:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
        n_ent = sum(len(r["entities"]) for r in recs)  # type: ignore[arg-type]
        print(f"{name}: {len(recs)} messages, {n_ent} entities")


if __name__ == "__main__":
    main()
