"""Whole evaluations: read the data, build or open the index, run it, return one record.

The data kind comes from the path (:func:`detect`):

- ``questions``: a JSONL question set, asked against an index (``corpus`` builds one);
- ``squad``: a SQuAD v1.1/v2.0 file, its paragraphs indexed, every question asked;
- ``beir``: a BEIR folder, retrieval only, in each of ``modes``;
- ``results``: a record saved by an earlier run (to compare, not to run).

The record is plain JSON: ``format``, ``kind``, ``name``, ``data``, ``created``, ``version``,
``settings``, ``index`` (model, chunking, counts, ingest time), ``summary`` and ``results`` (one
row a question, or a query and mode for BEIR).
"""

from __future__ import annotations

import contextlib
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa.engine import Engine
from qa.errors import QAError
from qa.index import Index
from qa.options import MODES, AskOptions
from qa.progress import reporter
from qa.types import Document

if TYPE_CHECKING:
    from qa.eval.beir import BeirSet
    from qa.generate import LLM

FORMAT = "reportqa-eval/1"
INGEST_BATCH = 512  # documents per write: the progress bar moves, the BM25 rebuilds stay few
KINDS = ("questions", "squad", "beir", "results")


def detect(path: str | Path) -> str:
    """The kind of evaluation data at ``path`` (one of ``KINDS``), or QAError saying why not."""
    path = Path(path)
    if path.is_dir():
        if (path / "results.json").is_file():
            return "results"
        if (path / "corpus.jsonl").is_file():
            return "beir"
        raise QAError(f"{path} is a folder but neither a BEIR folder nor an eval output folder")
    if not path.is_file():
        raise QAError(f"no such file or folder: {path}")
    if path.suffix == ".jsonl":
        return "questions"
    if path.suffix == ".json":
        from qa.eval.squad import is_squad

        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise QAError(f"{path} is not valid JSON ({exc})") from exc
        if isinstance(data, dict) and data.get("format") == FORMAT:
            return "results"
        if is_squad(data):
            return "squad"
    raise QAError(
        f"cannot tell what {path} holds: pass a question set (.jsonl), a SQuAD file (.json), "
        "a BEIR folder or an eval results.json"
    )


def _bar(items: Iterable[Any] | None, progress: bool, total: int, desc: str, unit: str) -> Any:
    """A bar on a terminal; elsewhere, with ``progress``, a line now and then
    (:func:`qa.progress.reporter`), so a log shows the run goes on."""
    from tqdm import tqdm

    if not progress or sys.stderr.isatty():
        return tqdm(items, total=total, desc=desc, unit=unit, disable=not progress, leave=False)
    return _Lines(items, total, desc)


class _Lines:
    """What eval uses of a tqdm bar (iterate, ``update``, ``with``), as progress lines."""

    def __init__(self, items: Iterable[Any] | None, total: int, stage: str) -> None:
        self.items, self.total, self.stage = items, total, stage
        self.done = 0
        self.show = reporter()
        self.show(stage, 0, total)

    def update(self, n: int) -> None:
        self.done += n
        self.show(self.stage, self.done, self.total)

    def set_postfix_str(self, text: str, refresh: bool = True) -> None:
        """A bar's note (the mode being run): a line has no room for it."""

    def __iter__(self) -> Iterator[Any]:
        for item in self.items or ():
            yield item
            self.update(1)

    def __enter__(self) -> _Lines:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def _measured(index: Engine | Index, write: Callable[[], object]) -> dict[str, Any]:
    """Run ``write`` and return the chunks it added, the seconds it took and the chunks/s.

    The process CPU time is kept too: on a shared machine it moves less than the wall clock.
    """
    before = index.counts()["chunks"]
    start, cpu = time.perf_counter(), time.process_time()
    write()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    added = index.counts()["chunks"] - before
    return {
        "chunks_added": added,
        "ingest_seconds": seconds,
        "ingest_cpu_seconds": cpu,
        "chunks_per_second": added / seconds if added and seconds > 0 else None,
    }


def ingest(
    index: Engine | Index, documents: Sequence[Document], progress: bool = False
) -> dict[str, Any]:
    """Add ``documents`` in batches; the counts, time and chunks/s of what was new."""

    def write() -> None:
        with _bar(None, progress, len(documents), "indexing", "doc") as bar:
            for start in range(0, len(documents), INGEST_BATCH):
                batch = documents[start : start + INGEST_BATCH]
                index.add_documents(batch)
                bar.update(len(batch))

    return _measured(index, write)


def ingest_files(
    index: Engine | Index, corpus: str | Path, progress: bool = False
) -> dict[str, Any]:
    """Add the report files under ``corpus``; QAError when none could be read."""
    reports = []
    shown = reporter() if progress else None
    stats = _measured(index, lambda: reports.append(index.add([corpus], progress=shown)))
    if not reports[0].added and not reports[0].unchanged:
        raise QAError(f"no reports could be read from {corpus}")
    return stats


def index_info(index: Engine, temporary: bool, stats: dict[str, Any] | None) -> dict[str, Any]:
    """What the record says about the index: model, chunking, counts, ingest figures."""
    m = index.index.manifest
    return {
        "path": None if temporary else index.location,
        "model": m.model,
        "chunk_size": m.chunk_size,
        "chunk_overlap": m.chunk_overlap,
        **index.counts(),
        **(stats or {}),
    }


@contextlib.contextmanager
def engine_for(
    given: Engine | str | Path | None,
    model: str | None = None,
    chunking: dict[str, int | None] | None = None,
    *,
    reader: str | Path | None = None,
    llm: LLM | None = None,
) -> Iterator[tuple[Engine, bool]]:
    """The given engine, the one over the index at ``given`` (created if missing), or one over
    a fresh index in a temporary folder; and whether it is the temporary one. An engine opened
    here answers with ``reader`` (a folder; default the shipped one) and ``llm``."""
    if isinstance(given, Engine):
        yield given, False
        return
    with tempfile.TemporaryDirectory(prefix="qa-eval-") as tmp:
        where = given if given is not None else Path(tmp) / "index"
        sizes = chunking or {}
        index = Index.open(
            where,
            create=True,
            model=model,
            chunk_size=sizes.get("chunk_size"),
            chunk_overlap=sizes.get("chunk_overlap"),
        )
        with Engine(index, reader=reader, llm=llm) as opened:
            yield opened, given is None


def evaluate(
    data: str | Path,
    *,
    index: Engine | str | Path | None = None,
    corpus: str | Path | None = None,
    model: str | None = None,
    chunk_size: int | None = None,
    chunk_overlap: int | None = None,
    modes: Sequence[str] = MODES,
    split: str | None = None,
    limit: int | None = None,
    progress: bool = False,
    options: AskOptions = AskOptions(),
    reader: str | Path | None = None,
    llm: LLM | None = None,
) -> dict[str, Any]:
    """Run the evaluation the data at ``data`` calls for and return its record.

    ``index`` is an open Engine or an index folder (created if missing); without one a
    question set uses the default index (or a temporary one when ``corpus`` is given), SQuAD
    and BEIR data a temporary one. Questions are asked with ``options``, read by ``reader``
    (an exported reader's folder; default the shipped one), and with ``llm`` written too.
    """
    path = Path(data)
    kind = detect(path)
    if kind == "results":
        raise QAError(f"{path} holds results of an earlier run; compare it instead of running it")
    chunking = {"chunk_size": chunk_size, "chunk_overlap": chunk_overlap}
    settings: dict[str, Any] = {
        "limit": limit,
        **options.to_dict(),
        "reader": str(reader) if reader else None,
        "llm": llm.model if llm else None,
    }
    documents: list[Document] = []
    own: Engine | None = None
    if kind == "questions":
        from qa.eval.answers import load_questions

        items = load_questions(path)[:limit]
        if not items:
            raise QAError(f"{path} holds no questions")
        if corpus is None and not isinstance(index, Engine):
            # an existing index: never create one here; closed at the end, as opened here
            index = own = Engine.open(index, model=model, reader=reader, llm=llm)
    elif kind == "squad":
        from qa.eval.squad import load_squad

        squad = load_squad(path)
        documents, items = squad.documents, squad.items[:limit]
        settings["squad_version"] = squad.version
    else:
        from qa.eval.beir import load_beir

        beir = load_beir(path, split)
        documents = beir.documents
        settings = {"limit": limit, "modes": list(modes), "split": split}
    with contextlib.ExitStack() as stack:
        if own is not None:
            stack.callback(own.close)
        opened, temporary = stack.enter_context(
            engine_for(index, model, chunking, reader=reader, llm=llm)
        )
        stats = None
        if corpus is not None:
            stats = ingest_files(opened, corpus, progress)
        if documents:
            stats = ingest(opened, documents, progress)
        if kind == "beir":
            summary, results = _run_beir(opened, beir, modes, limit, progress)
        else:
            summary, results = run_questions(opened, items, progress, options)
            if kind == "squad":
                from qa.eval.squad import official_scores

                summary["official"] = official_scores(results)
        info = index_info(opened, temporary, stats)
    name = path.stem if path.is_file() else path.resolve().name
    return make_record(kind, name, path, settings, info, summary, results)


def make_record(
    kind: str,
    name: str,
    data: Path,
    settings: dict[str, Any],
    index: dict[str, Any],
    summary: dict[str, Any],
    results: list[dict[str, Any]],
) -> dict[str, Any]:
    """The record of a run, as saved in results.json."""
    return {
        "format": FORMAT,
        "kind": kind,
        "name": name,
        "data": str(data.resolve()),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "version": _version(),
        "settings": settings,
        "index": index,
        "summary": summary,
        "results": results,
    }


def run_questions(
    index: Engine, items: list[Any], progress: bool, options: AskOptions, **run_options: Any
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Ask every item with ``options`` (with a progress bar when ``progress``); the summary
    and the rows. ``run_options`` go to :func:`qa.eval.answers.run`.
    """
    from qa.eval.answers import run, summarize

    def bar(xs: Iterable[Any]) -> Iterable[Any]:
        return _bar(xs, progress, len(items), "asking", "q")

    results = run(index, items, bar, options=options, **run_options)
    return summarize(results), results


def _run_beir(
    index: Engine, beir: BeirSet, modes: Sequence[str], limit: int | None, progress: bool
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Every query in every mode, with one progress bar over modes x queries."""
    from qa.eval.beir import aggregate, query_results

    unknown = [m for m in modes if m not in MODES]
    if unknown or not modes:
        raise ValueError(f"unknown modes {unknown}; use some of {', '.join(MODES)}")
    index.index.search("warm up", 1)  # the first search loads the model and the derived files
    summary, results = {}, []
    n = len(list(beir.queries)[:limit])
    with _bar(None, progress, len(modes) * n, "searching", "q") as bar:
        for mode in modes:
            bar.set_postfix_str(mode, refresh=False)
            rows = query_results(index.index, beir, mode, limit, on_query=lambda: bar.update(1))
            summary[mode] = aggregate(rows)
            results += rows
    return summary, results


def _version() -> str:
    from qa import __version__

    return __version__
