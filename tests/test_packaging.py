"""What ``pip install reportqa`` installs: every package of the source tree and every data
file the code reads (built without a setuptools warning), and every library the code imports
declared as a dependency (not only present because another one, or the dev extra, happens to
pull it in)."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
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


def _folder(package: str) -> Path:
    """The source folder of a package of the distribution ("qa.eval.data" -> eval/data)."""
    for name in sorted(FOLDERS, key=len, reverse=True):
        if package == name or package.startswith(name + "."):
            return FOLDERS[name].joinpath(*package[len(name) :].split(".")[1:])
    raise AssertionError(package)


def _wheel_name(path: Path) -> str:
    """Where a file of the tree lies in the wheel (index/core.py -> qa/index/core.py)."""
    for name, folder in FOLDERS.items():
        if path.is_relative_to(folder):
            return "/".join((*name.split("."), *path.relative_to(folder).parts))
    raise AssertionError(path)


def test_every_package_of_the_tree_is_in_the_distribution() -> None:
    found = set()
    for package, folder in FOLDERS.items():
        for init in folder.rglob("__init__.py"):
            parts = init.parent.relative_to(folder).parts
            if "__pycache__" not in parts:
                found.add(".".join((package, *parts)))
    listed = set(PROJECT["tool"]["setuptools"]["packages"])
    assert found <= listed
    # the rest are folders of data, listed so that setuptools ships them without a warning
    for package in listed - found:
        folder = _folder(package)
        assert folder.is_dir() and not list(folder.glob("*.py")), package
        assert package in PROJECT["tool"]["setuptools"]["package-data"], package


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
    assert "*" in data["qa.reader.model"]


def test_the_wheel_holds_the_code_and_the_data_it_reads_and_nothing_else(tmp_path: Path) -> None:
    """Built from a copy of the tree: no setuptools warning, every module, every file of the
    data folders and the data files beside the code; nothing else."""
    pytest.importorskip("setuptools")
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    skip = shutil.ignore_patterns("__pycache__", ".*")
    for folder in FOLDERS.values():
        shutil.copytree(folder, source / folder.name, ignore=skip)
    pip = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    built = subprocess.run(
        [*pip, "-w", str(tmp_path / "wheel"), str(source)], capture_output=True, text=True
    )
    assert built.returncode == 0, built.stdout + built.stderr
    log = built.stdout + built.stderr
    assert "would be ignored" not in log and "absent from the `packages`" not in log
    (wheel,) = (tmp_path / "wheel").glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = {n for n in archive.namelist() if n.startswith("qa/")}
    packages = [_folder(p) for p in PROJECT["tool"]["setuptools"]["packages"]]
    data = [folder for folder in packages if not list(folder.glob("*.py"))]
    expected = {
        _wheel_name(path)
        for folder in FOLDERS.values()
        for path in folder.rglob("*.py")
        if "__pycache__" not in path.parts
    }
    expected |= {_wheel_name(path) for folder in data for path in folder.iterdir()}
    expected |= {
        "qa/py.typed",
        "qa/answer/calibration.json",
        "qa/generate/lowercase-words.txt.gz",
    }
    assert shipped == expected
    assert "qa/reader/model/model.safetensors" in shipped
    assert "qa/reader/model/README.md" in shipped  # the model card ships; no training record
    assert not [n for n in shipped if n.endswith(".jsonl") and n.startswith("qa/reader/")]
