"""The reader's training, apart from answering: SQuAD v1.1 data (``data``), near misses
(``hard``), the recipe (``train``: ``python -m qa.reader.training.train``), and the rebuild of
the checker's lowercase word list (``lexicon``). Nothing that answers a question imports it.
"""
