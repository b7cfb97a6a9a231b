"""PNG plots of a run (matplotlib, Agg backend: no display needed).

- ``recall_at_k.png``: recall@k of the expected document (question sets, SQuAD) or of the
  relevant documents, one line a retrieval mode (BEIR);
- ``accuracy_by_type.png``: accuracy, EM and F1 for each question type;
- ``latency.png``: histogram of the seconds each question (or query) took;
- ``reliability.png``: the reliability curve, share right against confidence by bin.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qa.eval.metrics import percentile


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_all(record: dict[str, Any], folder: Path) -> list[Path]:
    """Every plot the record has data for, written into ``folder``; the paths written."""
    written = [
        recall_curve(record, folder / "recall_at_k.png"),
        accuracy_by_type(record, folder / "accuracy_by_type.png"),
        latency_histogram(record, folder / "latency.png"),
        _record_reliability(record, folder / "reliability.png"),
    ]
    return [path for path in written if path is not None]


def _curves(record: dict[str, Any]) -> dict[str, dict[str, float]]:
    if record["kind"] == "beir":
        return {mode: r["recall"] for mode, r in record["summary"].items()}
    retrieval = record["summary"].get("retrieval")
    return {record["settings"].get("mode") or "hybrid": retrieval["recall"]} if retrieval else {}


def recall_curve(record: dict[str, Any], path: Path) -> Path | None:
    """Recall@k against k, one line a mode; None when the run measured no retrieval."""
    curves = _curves(record)
    if not curves:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for mode, curve in curves.items():
        ks = [int(k) for k in curve]
        ax.plot(ks, list(curve.values()), marker="o", label=mode)
    ax.set_xscale("log")
    ax.set_xticks(ks, [str(k) for k in ks])
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("k (documents retrieved)")
    ax.set_ylabel("recall@k")
    target = "relevant documents" if record["kind"] == "beir" else "expected document"
    ax.set_title(f"{record['name']}: recall@k of the {target}")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    return _save(plt, fig, path)


def accuracy_by_type(record: dict[str, Any], path: Path) -> Path | None:
    """Grouped bars of accuracy, EM and F1 per question type; None for retrieval-only runs."""
    by_type = record["summary"].get("by_type")
    if not by_type:
        return None
    plt = _pyplot()
    names = list(by_type)
    fig, ax = plt.subplots(figsize=(max(6, 0.9 * len(names) + 2), 4))
    width = 0.27
    for i, (metric, label) in enumerate((("accuracy", "accuracy"), ("em", "EM"), ("f1", "F1"))):
        values = [
            by_type[t][metric] if by_type[t].get("answerable", 1) or metric == "accuracy" else 0.0
            for t in names
        ]
        ax.bar([x + (i - 1) * width for x in range(len(names))], values, width, label=label)
    ax.set_xticks(range(len(names)), [f"{t}\n(n={by_type[t]['n']})" for t in names], fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("score")
    ax.set_title(f"{record['name']}: accuracy by question type")
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return _save(plt, fig, path)


def latency_histogram(record: dict[str, Any], path: Path) -> Path | None:
    """Histogram of per-question (per-query) seconds, in ms; None when there are none."""
    rows = record["results"]
    if not rows:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    groups: dict[str, list[float]] = {}
    for r in rows:
        groups.setdefault(r.get("mode") or "ask", []).append(r["seconds"] * 1000)
    everything = [v for values in groups.values() for v in values]
    low, high = min(everything), max(everything)
    edges = [low + (high - low) * i / 40 for i in range(41)] if high > low else 10
    for name, values in groups.items():
        ax.hist(values, bins=edges, alpha=0.6, label=name)
    if len(groups) == 1:
        values = next(iter(groups.values()))
        for p, style in ((50, "--"), (95, ":")):
            at = percentile(values, p)
            ax.axvline(at, color="black", linestyle=style, label=f"p{p} {at:.0f} ms")
    ax.set_xlabel("milliseconds")
    ax.set_ylabel("questions" if record["kind"] != "beir" else "queries")
    ax.set_title(f"{record['name']}: latency")
    ax.legend()
    return _save(plt, fig, path)


def _record_reliability(record: dict[str, Any], path: Path) -> Path | None:
    curve = record["summary"].get("reliability")
    return reliability_plot({record["name"]: curve}, path) if curve else None


def reliability_plot(curves: dict[str, list[dict[str, float]]], path: Path) -> Path:
    """Share right against mean confidence in each confidence bin, one line a question set,
    with the diagonal a calibrated confidence follows and each bin's count."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", label="calibrated")
    for name, curve in curves.items():
        xs = [b["confidence"] for b in curve]
        ys = [b["accuracy"] for b in curve]
        ax.plot(xs, ys, marker="o", label=name)
        for x, y, b in zip(xs, ys, curve):
            ax.annotate(
                str(b["count"]), (x, y), fontsize=7, xytext=(3, -9), textcoords="offset points"
            )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("confidence shown (bin mean)")
    ax.set_ylabel("share of replies right")
    ax.set_title("Reliability: confidence against accuracy")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    return _save(plt, fig, path)


def _save(plt: Any, fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
