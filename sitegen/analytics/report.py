"""Analytics report rows as text: an aligned table for people, JSON and CSV for machines.

The table shows bandwidth (columns named ``*bandwidth*`` or ``*bytes*``) in binary units and
counts with thousands separators, and ends with a totals row summing every numeric column.
JSON is ``{"rows": [...], "meta": {...}}``; CSV is the rows with a header line, values raw.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

FORMATS = ("table", "json", "csv")
UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def columns(rows: list[dict[str, Any]]) -> list[str]:
    """Every key of the rows in first-seen order, a date column first."""
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row))
    keys = list(seen)
    for first in ("date", "status", "url"):
        if first in seen:
            keys.remove(first)
            keys.insert(0, first)
            break
    return keys


def human_bytes(n: float) -> str:
    value = float(n)
    for unit in UNITS:
        if abs(value) < 1024 or unit == UNITS[-1]:
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _cell(key: str, value: Any) -> str:
    if value is None:
        return ""
    if _is_number(value):
        if "bandwidth" in key or "bytes" in key:
            return human_bytes(value)
        return f"{value:,}" if isinstance(value, int) else f"{value:,.2f}"
    return str(value)


def as_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "(no rows)\n"
    keys = columns(rows)
    numeric = [
        k
        for k in keys
        if any(_is_number(r.get(k)) for r in rows)
        and all(r.get(k) is None or _is_number(r.get(k)) for r in rows)
    ]
    body = [[_cell(k, r.get(k)) for k in keys] for r in rows]
    totals: list[str] | None = None
    if numeric and len(rows) > 1 and keys[0] not in numeric:
        totals = [
            "total"
            if i == 0
            else _cell(k, sum(r.get(k) or 0 for r in rows))
            if k in numeric
            else ""
            for i, k in enumerate(keys)
        ]
    lines = [keys, *body, *([totals] if totals else [])]
    widths = [max(len(line[i]) for line in lines) for i in range(len(keys))]

    def fmt(line: list[str]) -> str:
        cells = [
            c.rjust(w) if k in numeric else c.ljust(w)
            for c, w, k in zip(line, widths, keys, strict=True)
        ]
        return "  ".join(cells).rstrip()

    out = [fmt(keys), "  ".join("-" * w for w in widths), *(fmt(b) for b in body)]
    if totals:
        out += ["  ".join("-" * w for w in widths), fmt(totals)]
    return "\n".join(out) + "\n"


def as_json(rows: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    return json.dumps({"rows": rows, "meta": meta}, indent=2, ensure_ascii=False) + "\n"


def as_csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    keys = columns(rows)
    writer = csv.DictWriter(buffer, fieldnames=keys, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {k: json.dumps(v) if isinstance(v, (dict, list)) else v for k, v in row.items()}
        )
    return buffer.getvalue()


def render(rows: list[dict[str, Any]], meta: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return as_json(rows, meta)
    if fmt == "csv":
        return as_csv(rows)
    return as_table(rows)
