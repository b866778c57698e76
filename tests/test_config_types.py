"""config/default.yaml and the typed sections agree, and no code restates a default.

* Every leaf key of config/default.yaml is read by a typed section (dropping it makes that section's
  ``from_config`` refuse the config with one ConfigError line), or lies under a mapping whose entries
  are the user's to choose (weights, verdicts, priorities: fewer entries is a valid config), or is one
  of ``UNTYPED`` — read by key where it is used, checked by ``settings.validate_config``.
* No module calls ``.get("<config key>", <default>)``: the defaults live in config/default.yaml only.
"""
from __future__ import annotations

import ast
import copy
from pathlib import Path

import pytest
import yaml

from plekzoeker.errors import ConfigError
from plekzoeker.settings import DEFAULT_CONFIG, TYPED_SECTIONS, load_config, section_type, typed_sections

ROOT = Path(__file__).resolve().parent.parent
# mappings whose entries the user chooses (removing one is a valid config)
MAPS = ("facts.zoning.verdicts.", "facts.zoning.status_rank.", "score.weights.", "score.profiles", "owners.priority.",
        "quick_scan.vetoes.", "quick_scan.flags.", "demand", "inputs.", "access.categories.", "plots.exclude_raster.",
        "plots.penalise_osm.", "plots.penalise_bgt.")
# sections read by key where they are used (validated in settings.validate_config), not by a typed section yet
UNTYPED = ("area.", "fetch.", "transit.date")
# .get() calls with a default on a key that happens to share a config key's name (not a config read)
NOT_CONFIG = {("outputs/publish.py", "weight"), ("outputs/outreach.py", "weight"), ("outputs/outreach_words.py", "weight"),
              ("pipelines/flows.py", "ingest"), ("pipelines/flows.py", "area"), ("pipelines/partitioned.py", "access"),
              ("scoring/coverage.py", "max_snap_m"), ("scoring/special_objects.py", "vacancy")}


def _leaves(d, path=()):
    if isinstance(d, dict) and d:
        for k, v in d.items():
            yield from _leaves(v, (*path, str(k)))
    else:
        yield path


def _refusers(cfg: dict) -> list[str]:
    out = []
    for name in TYPED_SECTIONS:
        t = section_type(name)
        try:
            t.from_config(cfg["fetch"]) if name == "fetch" else t.from_config(cfg)
        except ConfigError as exc:
            assert "\n" not in str(exc)
            out.append(name)
    return out


def test_the_default_config_builds_every_typed_section():
    built = typed_sections(load_config())
    assert set(built) == set(TYPED_SECTIONS)
    for obj in built.values():
        with pytest.raises(AttributeError):  # frozen: a section cannot be changed after it was read
            setattr(obj, next(iter(obj.__dataclass_fields__)), None)


def test_every_key_is_typed_or_accounted_for():
    cfg = load_config()
    untyped, typed = [], 0
    for path in _leaves(cfg):
        dotted = ".".join(path)
        c = copy.deepcopy(cfg)
        node = c
        for k in path[:-1]:
            node = node[k]
        del node[path[-1]]
        if _refusers(c):
            typed += 1
        elif not dotted.startswith(MAPS) and not dotted.startswith(UNTYPED):
            untyped.append(dotted)
    assert untyped == [], f"keys no typed section reads and no list accounts for: {untyped}"
    assert typed >= 60  # the typed sections really read their keys (ingest, facts, capacity, transit, dask, ...)


def test_a_bad_value_is_refused_when_the_config_is_read():
    for over, key in (({"dask": {"n_workers": 0}}, "dask.n_workers"), ({"ingest": {"max_shrink": 2}}, "ingest.max_shrink"),
                      ({"transit": {"weekday": "someday"}}, "transit.weekday"),
                      ({"publish": {"map_context_candidates": 0}}, "publish.map_context_candidates"),
                      ({"capacity": {"floors_tolerance": "x"}}, "capacity")):
        with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
            load_config(None, over)


def test_no_module_restates_a_default():
    keys = {str(k) for p in _leaves(yaml.safe_load(DEFAULT_CONFIG.read_text())) for k in p}
    found = []
    for folder in ("plekzoeker", "sources", "scoring", "outputs", "pipelines"):
        for p in sorted((ROOT / folder).rglob("*.py")):
            rel = p.relative_to(ROOT).as_posix()
            if "/migrations/" in rel or rel.startswith("plekzoeker/demo/"):
                continue
            for n in ast.walk(ast.parse(p.read_text())):
                if (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in ("get", "setdefault")
                        and len(n.args) == 2 and isinstance(n.args[0], ast.Constant) and n.args[0].value in keys
                        and not (isinstance(n.args[1], ast.Constant) and n.args[1].value is None)
                        and (rel, n.args[0].value) not in NOT_CONFIG):
                    found.append(f"{rel}:{n.lineno}: .get({n.args[0].value!r}, {ast.unparse(n.args[1])})")
    assert found == [], "defaults restated outside config/default.yaml:\n" + "\n".join(found)
