"""Two runs side by side: which metrics moved, which questions became right or wrong.

Questions are matched by id (and mode, for BEIR). An answer run compares each question's
``correct``; a BEIR run compares whether any relevant document is in the top ten ("found")
and counts the queries whose nDCG@10 rose or fell.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from qa.errors import QAError

COUNTS = {
    "n",
    "answerable",
    "total",
    "queries",
    "abstained",
    "unanswerable",
    "correct_abstentions",
    "HasAns_total",
    "NoAns_total",
}  # sizes, not scores
LOWER_IS_BETTER = ("latency", "_ms", "seconds")


def load_record(path: str | Path) -> dict[str, Any]:
    """A saved run: its results.json, or the output folder holding one."""
    from qa.eval.suite import FORMAT

    path = Path(path)
    if path.is_dir():
        path = path / "results.json"
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise QAError(f"{path} is not valid JSON ({exc})") from exc
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise QAError(f"{path} is not a results file of `qa eval` (format {FORMAT} expected)")
    return record


def flatten(summary: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """Every score in a summary by dotted name ("by_type.count.accuracy"); sizes left out."""
    flat: dict[str, float] = {}
    for key, value in summary.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and key not in COUNTS:
            flat[name] = float(value)
    return flat


def _key(row: dict[str, Any]) -> str:
    return f"{row['mode']}:{row['id']}" if "mode" in row else str(row["id"])


def _ok(row: dict[str, Any]) -> bool:
    return bool(row["correct"]) if "correct" in row else row["recall@10"] > 0


def _brief(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    def said(row: dict[str, Any]) -> Any:
        if "correct" not in row:
            return row["top"][:3]
        if row["abstained"]:
            return "(abstained)"
        text = str(row["prediction"])
        return text if len(text) <= 80 else text[:77] + "..."

    return {
        "id": _key(new),
        "question": new.get("question") or new.get("query"),
        "gold": new.get("gold", new.get("relevant")),
        "old": said(old),
        "new": said(new),
    }


def compare_runs(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Metric deltas and per-question changes from ``old`` to ``new``."""
    before, after = flatten(old["summary"]), flatten(new["summary"])
    metrics = []
    for name in [n for n in after if n in before]:
        delta = after[name] - before[name]
        lower = any(mark in name for mark in LOWER_IS_BETTER)
        better = None if delta == 0 else (delta < 0) == lower
        metrics.append(
            {
                "metric": name,
                "old": before[name],
                "new": after[name],
                "delta": delta,
                "better": better,
            }
        )
    old_rows = {_key(r): r for r in old["results"]}
    new_rows = {_key(r): r for r in new["results"]}
    common = [k for k in new_rows if k in old_rows]
    pairs = [(old_rows[k], new_rows[k]) for k in common]
    diff: dict[str, Any] = {
        "old": {"name": old["name"], "created": old["created"], "data": old["data"]},
        "new": {"name": new["name"], "created": new["created"], "data": new["data"]},
        "metrics": metrics,
        "newly_right": [_brief(o, n) for o, n in pairs if _ok(n) and not _ok(o)],
        "newly_wrong": [_brief(o, n) for o, n in pairs if _ok(o) and not _ok(n)],
        "common": len(common),
        "only_old": len(old_rows) - len(common),
        "only_new": len(new_rows) - len(common),
    }
    if new["kind"] == "beir":
        diff["ndcg_better"] = sum(n["ndcg@10"] > o["ndcg@10"] for o, n in pairs)
        diff["ndcg_worse"] = sum(n["ndcg@10"] < o["ndcg@10"] for o, n in pairs)
    return diff


def format_comparison(diff: dict[str, Any], shown: int = 50) -> str:
    """What got better and worse, for the terminal: changed metrics, then changed questions."""
    o, n = diff["old"], diff["new"]
    lines = [f"compare {o['name']} ({o['created']}) -> {n['name']} ({n['created']})"]
    if o["data"] != n["data"]:
        lines.append(f"note: different data ({o['data']} vs {n['data']})")
    changed = [m for m in diff["metrics"] if m["delta"] != 0]
    if changed:
        lines.append(f"{'metric':<40}{'old':>10}{'new':>10}{'delta':>10}")
    for m in changed:
        verdict = "better" if m["better"] else "worse"
        lines.append(
            f"{m['metric']:<40}{m['old']:>10.4f}{m['new']:>10.4f}{m['delta']:>+10.4f}  {verdict}"
        )
    lines.append(f"{len(diff['metrics']) - len(changed)} metrics unchanged")
    lines.append(
        f"{diff['common']} questions in both runs"
        + (f", {diff['only_old']} only in the old" if diff["only_old"] else "")
        + (f", {diff['only_new']} only in the new" if diff["only_new"] else "")
    )
    if "ndcg_better" in diff:
        lines.append(f"nDCG@10 rose for {diff['ndcg_better']}, fell for {diff['ndcg_worse']}")
    titles = (
        ("newly found", "newly missed") if "ndcg_better" in diff else ("newly right", "newly wrong")
    )
    for title, rows in zip(titles, (diff["newly_right"], diff["newly_wrong"])):
        lines.append(f"{title} ({len(rows)}):")
        for row in rows[:shown]:
            lines.append(
                f"  {row['id']}: {row['question']} · gold {row['gold']} · was {row['old']} "
                f"· now {row['new']}"
            )
        if len(rows) > shown:
            lines.append(f"  ... and {len(rows) - shown} more (see --json)")
    return "\n".join(lines)
