"""``[project.dependencies]`` are exactly what the installed product imports.

Every module of the five package folders is parsed (imports inside functions count: a lazily
imported package is still needed at run time); each third-party top-level module is mapped to the
distribution that provides it (``importlib.metadata.packages_distributions``). A package the product
imports but does not declare breaks ``pip install plekzoeker``; one it declares but never imports
belongs in the ``test`` extra (or nowhere).
"""
from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PRODUCT = ("plekzoeker", "sources", "scoring", "outputs", "pipelines")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(req: str) -> str:
    return _norm(re.split(r"[\[<>=!~; ]", req, maxsplit=1)[0])


def imported_top_level_modules() -> dict[str, str]:
    """Third-party top-level module → one file that imports it."""
    found: dict[str, str] = {}
    for folder in PRODUCT:
        for path in (REPO / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                    [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else []
                for n in names:
                    top = n.split(".")[0]
                    if top not in sys.stdlib_module_names and top != "plekzoeker" and top != "__future__":
                        found.setdefault(top, str(path.relative_to(REPO)))
    return found


def test_dependencies_are_what_the_product_imports():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = {_requirement_name(r) for r in project["dependencies"]}
    dists = packages_distributions()
    needed: dict[str, str] = {}
    for module, where in imported_top_level_modules().items():
        assert module in dists, f"{where} imports {module}, which no installed distribution provides"
        for dist in dists[module]:
            needed[_norm(dist)] = where
    # psycopg[binary]'s C build is an extra of psycopg, provided by psycopg-binary: not imported by name
    missing = {d: w for d, w in needed.items() if d not in declared}
    unused = declared - set(needed)
    assert not missing, f"imported but not in [project.dependencies]: {missing}"
    assert not unused, f"in [project.dependencies] but never imported by the product: {sorted(unused)}"


def test_test_only_packages_stay_out_of_the_product():
    """A package only the tests import (the networkx oracle, defusedxml) is not a product dependency, and a
    package the product imports is not declared only for the tests."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    test_extra = {_requirement_name(r) for r in project["optional-dependencies"]["test"]}
    assert "pytest" in test_extra
    imported = imported_top_level_modules()
    for name in test_extra:
        assert name not in imported or name in {_requirement_name(r) for r in project["dependencies"]}, \
            f"{name} is imported by {imported.get(name)} but only declared in the test extra"
