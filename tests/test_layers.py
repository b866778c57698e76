"""Dependencies point one way: sources → db ← scoring ← outputs; pipelines call them; nothing reaches back up.

Every import in the product (top level or inside a function: a lazy import is still a dependency)
is resolved to its ``plekzoeker.*`` module through the package-dir mapping and classified by layer:

    base       plekzoeker.{errors, area, paths, faults, progress, settings, prefect_env}
    db         plekzoeker.db            may use base
    sources    plekzoeker.sources       may use base, db
    scoring    plekzoeker.scoring       may use base, db
    outputs    plekzoeker.outputs       may use base, db, scoring
    pipelines  plekzoeker.pipelines     may use all of the above
    cli, demo  the command line and the demo town generator: may use anything

A reader of ``scoring/`` then never needs ``sources/`` to understand it (the rasters it scores
with come from the ledger in ``db``), and ``outputs/`` can be run on any database a pipeline left.
The test fails on a new edge against the direction, naming the file and the import.
"""
from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FOLDERS = {"plekzoeker": "plekzoeker", "sources": "plekzoeker.sources", "scoring": "plekzoeker.scoring",
           "outputs": "plekzoeker.outputs", "pipelines": "plekzoeker.pipelines"}
ALLOWED = {
    "base": {"base"},
    "db": {"base", "db"},
    "sources": {"base", "db", "sources"},
    "scoring": {"base", "db", "scoring"},
    "outputs": {"base", "db", "scoring", "outputs"},
    "pipelines": {"base", "db", "sources", "scoring", "outputs", "pipelines"},
    "cli": None,   # anything
    "demo": None,
}
# Known edges against the direction, each with its reason. Keep this list short; it is not a loophole.
EXCEPTIONS = {
    # the config validator checks plots.exclude_osm against the land-use classes the OSM reader loads;
    # osm_tags is a pure table (imports nothing of plekzoeker), imported lazily inside validate_config
    ("plekzoeker/settings.py", "plekzoeker.sources.osm_tags"),
}


def layer(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "plekzoeker":
        return None
    if len(parts) == 1:
        return "base"
    if parts[1] in ("db", "sources", "scoring", "outputs", "pipelines", "demo", "cli"):
        return parts[1]
    return "base"


def product_imports():
    """(file relative to the repo, importing module, imported plekzoeker module) for every import."""
    for folder, package in FOLDERS.items():
        for path in sorted((REPO / folder).rglob("*.py")):
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            module = package.split(".") + parts[1:]
            if parts[-1] == "__init__":
                module = module[:-1]
            pkg = module if parts[-1] == "__init__" else module[:-1]  # what a relative import starts from
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom):
                    if node.level:
                        base = pkg[:len(pkg) - node.level + 1]
                        targets = [".".join(base + ([node.module] if node.module else []))]
                    else:
                        targets = [node.module or ""]
                elif isinstance(node, ast.Import):
                    targets = [a.name for a in node.names]
                else:
                    continue
                for t in targets:
                    if t.startswith("plekzoeker"):
                        yield str(path.relative_to(REPO)), ".".join(module), t


def test_layers_are_classified():
    """Every product module falls into a layer this test knows (a new top-level package must be placed)."""
    for rel, module, _ in product_imports():
        assert layer(module) in ALLOWED, f"{rel}: module {module} is in no layer"


def test_dependencies_point_one_way():
    wrong = []
    for rel, module, target in product_imports():
        here, there = layer(module), layer(target)
        allowed = ALLOWED[here]
        if allowed is None or there in allowed or (rel, target) in EXCEPTIONS:
            continue
        wrong.append(f"{rel} ({here}) imports {target} ({there})")
    assert not wrong, "imports against the direction sources → db ← scoring ← outputs ← pipelines:\n" + "\n".join(wrong)


def test_the_check_can_fail():
    """The classifier sees the edges it must refuse (a test that cannot fail proves nothing)."""
    assert "sources" not in ALLOWED["scoring"] and "pipelines" not in ALLOWED["outputs"]
    assert layer("plekzoeker.sources.rasters") == "sources" and layer("plekzoeker.scoring.run") == "scoring"
    edges = {(layer(m), layer(t)) for _, m, t in product_imports()}
    assert ("sources", "db") in edges and ("scoring", "db") in edges  # the walk finds real imports


def test_no_relative_import_crosses_the_package_dir_mapping():
    """``from ..x`` inside sources/, scoring/, ... would name plekzoeker.x, a folder the reader does not see."""
    for folder in FOLDERS:
        for path in (REPO / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.level >= 2:
                    raise AssertionError(f"{path.relative_to(REPO)}:{node.lineno}: parent-relative import; "
                                         "write `from plekzoeker.… import …`")
