"""What a run leaves behind: the terminal summary, and an output folder with the results JSON,
a Markdown report and the plots.

Output folder (``qa eval --output-dir``; default ``eval-results/<name>-<UTC timestamp>/``)::

    results.json        the record: settings, index, summary and every per-question result
    report.md           the summary tables, the plots and every wrong answer
    recall_at_k.png     recall@k of the expected paragraph / relevant documents
    accuracy_by_type.png, latency.png, reliability.png (confidence bins against accuracy)
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

RESULTS = "results.json"
REPORT = "report.md"
DEFAULT_ROOT = Path("eval-results")
WRONG_SHOWN = 200  # wrong answers listed in the Markdown report; all are in results.json


def default_output_dir(record: dict[str, Any], root: Path = DEFAULT_ROOT) -> Path:
    """``eval-results/<name>-<YYYYmmdd-HHMMSS>`` (UTC), so runs never overwrite each other."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    return root / f"{record['name']}-{stamp}"


def write(record: dict[str, Any], folder: Path) -> list[Path]:
    """Write results.json, report.md and the plots into ``folder``; the paths written."""
    from qa.eval.plots import plot_all

    folder.mkdir(parents=True, exist_ok=True)
    results = folder / RESULTS
    results.write_text(json.dumps(record, indent=1, ensure_ascii=False), encoding="utf-8")
    images = plot_all(record, folder)
    report = folder / REPORT
    report.write_text(markdown(record, [p.name for p in images]), encoding="utf-8")
    return [results, report, *images]


# --- terminal -----------------------------------------------------------------------------


def format_text(record: dict[str, Any]) -> str:
    """The summary table for the terminal."""
    lines = [_headline(record)]
    if record["kind"] == "beir":
        lines.append(_beir_table(record["summary"]))
    else:
        from qa.eval.answers import format_summary

        lines.append(format_summary(record["summary"]))
        if "official" in record["summary"]:
            lines.append(_official_line(record["summary"]["official"]))
    return "\n".join(lines)


def _headline(record: dict[str, Any]) -> str:
    info, s = record["index"], record["settings"]
    what = f"{record['kind']} {record['name']}"
    if record["kind"] != "beir":
        what += f" · k {s.get('k', '-')} · mode {s.get('mode', 'hybrid')}"
    line = f"{what} · index {info['documents']} documents, {info['chunks']} chunks"
    if info.get("chunks_per_second"):
        line += (
            f" · ingest {info['chunks_added']} chunks in {info['ingest_seconds']:.1f} s "
            f"= {info['chunks_per_second']:.1f} chunks/s"
        )
    return line


def _official_line(o: dict[str, Any]) -> str:
    line = f"SQuAD scoring over all {o['total']} questions: EM {o['exact']:.3f} F1 {o['f1']:.3f}"
    if "NoAns_total" in o:
        line += f" (HasAns EM {o.get('HasAns_exact', 0):.3f}, NoAns {o['NoAns_exact']:.3f})"
    return line


def _beir_table(summary: dict[str, Any]) -> str:
    head = f"{'mode':<8}{'nDCG@10':>9}{'R@10':>8}{'MRR@10':>8}{'p50 ms':>9}{'p95 ms':>9}{'n':>6}"
    lines = [head, "-" * len(head)]
    for mode, r in summary.items():
        lines.append(
            f"{mode:<8}{r['ndcg@10']:>9.4f}{r['recall@10']:>8.4f}{r['mrr@10']:>8.4f}"
            f"{r['p50_ms']:>9.1f}{r['p95_ms']:>9.1f}{r['queries']:>6}"
        )
    ks = list(next(iter(summary.values()))["recall"]) if summary else []
    lines.append(f"{'recall@k':<8}" + "".join(f"{'@' + k:>8}" for k in ks))
    for mode, r in summary.items():
        lines.append(f"{mode:<8}" + "".join(f"{r['recall'][k]:>8.4f}" for k in ks))
    return "\n".join(lines)


# --- Markdown -----------------------------------------------------------------------------


def markdown(record: dict[str, Any], images: list[str]) -> str:
    """The report: what was run, the summary tables, the plots, then every wrong answer."""
    info = record["index"]
    parts = [
        f"# Evaluation: {record['name']} ({record['kind']})",
        "",
        f"- data: `{record['data']}`",
        f"- run: {record['created']} · reportqa {record['version']}",
        f"- settings: {_settings(record['settings'])}",
        f"- index: {info['documents']} documents, {info['chunks']} chunks · model "
        f"`{info['model']}` · chunks of {info['chunk_size']} tokens, overlap "
        f"{info['chunk_overlap']}" + (f" · `{info['path']}`" if info.get("path") else ""),
    ]
    if info.get("chunks_per_second"):
        cpu = info.get("ingest_cpu_seconds")
        parts.append(
            f"- ingest: {info['chunks_added']} chunks in {info['ingest_seconds']:.1f} s "
            f"({info['chunks_per_second']:.1f} chunks/s"
            + (f"; {cpu:.0f} s of CPU time)" if cpu is not None else ")")
        )
    parts += ["", "## Summary", "", "```", format_text(record), "```", ""]
    parts += [f"![{Path(name).stem}]({name})" for name in images]
    if record["kind"] != "beir":
        parts += ["", *_wrong_answers(record["results"])]
    return "\n".join(parts) + "\n"


def _settings(settings: dict[str, Any]) -> str:
    shown = {k: v for k, v in settings.items() if v not in (None, [], {})}
    plain = {k: ",".join(map(str, v)) if isinstance(v, list) else v for k, v in shown.items()}
    return ", ".join(f"{k} {v}" for k, v in plain.items()) or "defaults"


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _wrong_answers(results: list[dict[str, Any]]) -> list[str]:
    wrong = [r for r in results if not r["correct"]]
    lines = [f"## Wrong answers ({len(wrong)} of {len(results)})", ""]
    if not wrong:
        return [*lines, "None."]
    if len(wrong) > WRONG_SHOWN:
        lines += [f"The first {WRONG_SHOWN} are listed; `{RESULTS}` holds them all.", ""]
    lines += [
        "| id | type | question | gold | prediction | first citation |",
        "|---|---|---|---|---|---|",
    ]
    for r in wrong[:WRONG_SHOWN]:
        prediction = "(abstained)" if r["abstained"] else r.get("short_answer") or "(sentence)"
        cite = r["citations"][0] if r["citations"] else None
        where = f"{cite['source']}: “{cite['quote']}”" if cite else ""
        gold = " / ".join(r["gold"]) or "(unanswerable)"
        lines.append(
            f"| {_cell(r['id'])} | {r['type']} | {_cell(r['question'])} | {_cell(gold)} "
            f"| {_cell(prediction)} | {_cell(where)} |"
        )
    return lines
