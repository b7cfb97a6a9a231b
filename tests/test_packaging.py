"""What ``pip install reportqa`` installs: every package of the source tree, and every
library the code imports declared as a dependency (not only present because another one, or
the dev extra, happens to pull it in)."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
FOLDERS = {
    "qa": ROOT / "qa",
    "qa.index": ROOT / "index",
    "qa.ui": ROOT / "ui",
    "qa.eval": ROOT / "eval",
}


def _name(requirement: str) -> str:
    """A distribution's name as pip compares them ("PyStemmer>=2.2" -> "pystemmer")."""
    bare = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert bare, requirement
    return re.sub(r"[-_.]+", "-", bare.group()).lower()


def test_every_package_of_the_tree_is_in_the_distribution() -> None:
    found = set()
    for package, folder in FOLDERS.items():
        for init in folder.rglob("__init__.py"):
            parts = init.parent.relative_to(folder).parts
            if "__pycache__" not in parts:
                found.add(".".join((package, *parts)))
    assert found == set(PROJECT["tool"]["setuptools"]["packages"])


def test_every_library_the_code_imports_is_a_declared_dependency() -> None:
    declared = {_name(r) for r in PROJECT["project"]["dependencies"]}
    declared |= {_name(r) for r in PROJECT["project"]["optional-dependencies"]["milvus"]}
    distributions = importlib.metadata.packages_distributions()
    undeclared = {}
    for folder in FOLDERS.values():
        for path in folder.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    top = module.split(".")[0]
                    if top == "qa" or top in sys.stdlib_module_names:
                        continue
                    names = {_name(d) for d in distributions.get(top, [top])}
                    if not names & declared:
                        undeclared[top] = path.relative_to(ROOT).as_posix()
    assert undeclared == {}


def test_every_data_file_the_code_reads_is_package_data() -> None:
    data = PROJECT["tool"]["setuptools"]["package-data"]
    # what the answerer loads at import (the calibration) and the reader's weights
    assert "calibration.json" in data["qa.answer"]
    assert (ROOT / "qa" / "answer" / "calibration.json").is_file()
    assert "model/*" in data["qa.reader"]
