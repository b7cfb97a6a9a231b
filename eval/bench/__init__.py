"""Benchmarks and measuring scripts, each ``python -m qa.eval.bench.NAME`` (``-h`` for its
options); the README's Results section gives their figures. Not imported by ``qa eval``.

- ``answer``: answer latency over the sample questions; ``retrieval``: a BEIR set by chunk size;
- ``ingest``: ingest speed against plain encoding; ``scale``: the index at 10k-1M chunks;
- ``ann``: approximate against exact dense search; ``backends``: local index against Milvus Lite;
- ``upload`` and ``soak``: a served ``qa serve`` while writing and under load (``serving``
  starts it); ``saturation``: answers a second as users grow; ``drop``: DROP's literal-number
  subset; ``threshold``: where to abstain;
- ``hardware``: ingest, answer, scale and saturation in one run, with the machine's load.

They use the public API, and one hook of the index for what an application never does: the
local index's ``embedded_documents`` (its stored chunks and vectors) and either backend's
``commit_embedded`` (a write of chunks already embedded, timed alone).
"""
