"""Evaluation: answer accuracy on question sets and SQuAD files, retrieval on BEIR folders.

    from qa.eval import evaluate, format_text, write_report
    record = evaluate("eval/data/sample_questions.jsonl", corpus="qa/corpus")
    print(format_text(record))
    write_report(record, Path("eval-results/sample"))

``evaluate`` returns a plain-JSON record (settings, index, summary, every per-question result);
``compare_runs`` sets two records side by side. The metrics live in :mod:`qa.eval.metrics`.
"""

from typing import TYPE_CHECKING

from qa.lazy import lazy_names

if TYPE_CHECKING:
    from qa.eval.answers import Item, format_summary, load_questions, run, summarize
    from qa.eval.beir import BeirSet, load_beir
    from qa.eval.beir import evaluate as evaluate_retrieval
    from qa.eval.compare import compare_runs, format_comparison, load_record
    from qa.eval.report import format_text
    from qa.eval.report import write as write_report
    from qa.eval.squad import SquadSet, load_squad, official_scores
    from qa.eval.suite import detect, evaluate

# imported when first used: ``qa``'s parser imports this package's ``cli``, and the answerer
# (torch, FAISS) is not needed to build it
_LAZY = {
    **dict.fromkeys(
        ["Item", "format_summary", "load_questions", "run", "summarize"], "qa.eval.answers"
    ),
    "BeirSet": "qa.eval.beir",
    "load_beir": "qa.eval.beir",
    "evaluate_retrieval": "qa.eval.beir:evaluate",
    **dict.fromkeys(["compare_runs", "format_comparison", "load_record"], "qa.eval.compare"),
    "format_text": "qa.eval.report",
    "write_report": "qa.eval.report:write",
    **dict.fromkeys(["SquadSet", "load_squad", "official_scores"], "qa.eval.squad"),
    "detect": "qa.eval.suite",
    "evaluate": "qa.eval.suite",
}


__getattr__ = lazy_names(__name__, _LAZY)

__all__ = [
    "BeirSet",
    "Item",
    "SquadSet",
    "compare_runs",
    "detect",
    "evaluate",
    "evaluate_retrieval",
    "format_comparison",
    "format_summary",
    "format_text",
    "load_beir",
    "load_questions",
    "load_record",
    "load_squad",
    "official_scores",
    "run",
    "summarize",
    "write_report",
]
