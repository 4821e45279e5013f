"""Every import resolves and is declared, so a fresh `pip install -e ".[dev]"` runs everything.

A package installed by hand on one machine hides an undeclared import until a user meets it.
CI runs these tests in a virtual environment it builds from pyproject.toml alone, where an
undeclared import fails here — including imports kept inside functions for start-up speed.
"""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCE_DIRS = ("jobmatch", "pipelines", "benchmarks", "tests")
# modules of this repository that scripts import by name (benchmarks/, tests/ on sys.path)
LOCAL = {*SOURCE_DIRS, *(p.stem for d in SOURCE_DIRS[1:] for p in (ROOT / d).glob("*.py"))}


def python_files(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))


def third_party_imports() -> dict[str, tuple[Path, int]]:
    """Top-level module -> first (file, line) importing it, at any depth of the code."""
    found: dict[str, tuple[Path, int]] = {}
    for path in python_files(*SOURCE_DIRS):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in LOCAL:
                    found.setdefault(top, (path.relative_to(ROOT), node.lineno))
    return found


def declared_distributions() -> set[str]:
    """Distributions the installed jobmatch requires, in its core and every extra."""
    requirements = importlib.metadata.requires("jobmatch") or []
    return {canonical(re.split(r"[<>=\[ ;~!(]", r, maxsplit=1)[0]) for r in requirements}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_import_is_installed_and_declared() -> None:
    """find_spec fails in CI's clean venv for an undeclared import; the metadata check
    also catches a module that only arrives as another package's dependency."""
    providers = importlib.metadata.packages_distributions()
    declared = declared_distributions()
    problems = []
    for module, (path, line) in sorted(third_party_imports().items()):
        where = f"{path}:{line} imports {module}"
        if importlib.util.find_spec(module) is None:
            problems.append(f"{where}, which is not installed")
            continue
        distributions = {canonical(d) for d in providers.get(module, [])}
        if not distributions & declared:
            problems.append(f"{where} from {sorted(distributions)}, not declared in pyproject")
    assert not problems, "\n".join(problems)


LIBRARY_MODULES = sorted(
    ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
    for p in python_files("jobmatch")
)


@pytest.mark.parametrize("module", LIBRARY_MODULES)
def test_every_library_module_imports(module: str) -> None:
    importlib.import_module(module)


SCRIPTS = [
    p for p in python_files("benchmarks", "pipelines") if '__name__ == "__main__"' in p.read_text()
]


def test_every_script_answers_help() -> None:
    """Each benchmark and pipeline script imports and parses its options in a fresh process."""
    running = {
        path: subprocess.Popen(
            [sys.executable, str(path), "--help"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for path in SCRIPTS
    }
    failures = []
    for path, process in running.items():
        out, err = process.communicate(timeout=300)
        if process.returncode != 0 or "usage" not in (out + err).lower():
            failures.append(f"{path.relative_to(ROOT)}: exit {process.returncode}\n{err[-2000:]}")
    assert len(SCRIPTS) >= 10
    assert not failures, "\n".join(failures)
