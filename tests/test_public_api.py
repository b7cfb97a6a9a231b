"""The public API is exactly what ``qa.__all__`` lists, sorted, and every name resolves."""

from __future__ import annotations

import qa
from qa.errors import QAError


def test_all_is_sorted_and_complete() -> None:
    assert qa.__all__ == sorted(qa.__all__)
    for name in qa.__all__:
        assert hasattr(qa, name), name


def test_errors_form_one_tree() -> None:
    errors = [getattr(qa, n) for n in qa.__all__ if n.endswith("Error")]
    assert errors and all(issubclass(e, QAError) for e in errors)
    assert issubclass(qa.InvalidQuestionError, ValueError)
