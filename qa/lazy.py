"""Names a package exports but imports only when first used.

``qa``, ``qa.eval`` and ``qa.answer`` export names whose modules pull in torch, FAISS and the
models; a command that needs none of them (``qa ask`` answered by a running server, building
the CLI's parser) should not pay for importing them.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(package: str, names: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: each name in ``names`` is imported from the
    module named beside it (``"qa.eval.beir:evaluate"`` for another name there) when first
    asked for, then kept in the package."""

    def __getattr__(name: str) -> Any:
        where = names.get(name)
        if where is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, _, attr = where.partition(":")
        value = getattr(importlib.import_module(module), attr or name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
