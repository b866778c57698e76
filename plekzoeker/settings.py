"""Settings from the environment and a YAML config file.

Environment:
  PLEKZOEKER_HOME    where the managed PostGIS cluster and caches live (default ./.plekzoeker)
  PLEKZOEKER_CONFIG  a YAML file merged over config/default.yaml
  DATABASE_URL       an external PostgreSQL/PostGIS server; when set, no cluster is started
"""
from __future__ import annotations

import copy
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError

DEFAULT_CONFIG = Path(__file__).with_name("default.yaml")


def _deep_merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in (over or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _resolve_paths(node: Any, base: Path) -> Any:
    """Make relative input paths absolute, relative to the config file that named them."""
    if isinstance(node, dict):
        return {k: _resolve_paths(v, base) for k, v in node.items()}
    if isinstance(node, str) and node and not os.path.isabs(node):
        return str((base / node).resolve())
    return node


def default_config() -> dict:
    """config/default.yaml alone (a fresh copy), without the user's file or the environment."""
    global _DEFAULTS
    if _DEFAULTS is None:
        try:
            _DEFAULTS = yaml.safe_load(DEFAULT_CONFIG.read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:  # pragma: no cover - packaging error
            raise ConfigError(f"{DEFAULT_CONFIG}: cannot read the default config: {exc}") from exc
    return copy.deepcopy(_DEFAULTS)


_DEFAULTS: dict | None = None


def load_config(path: str | Path | None = None, overrides: dict | None = None) -> dict:
    """Return the effective config: defaults, then the YAML file, then ``overrides``."""
    cfg = default_config()
    path = path or os.environ.get("PLEKZOEKER_CONFIG")
    if path:
        p = Path(path)
        try:
            user = yaml.safe_load(p.read_text()) or {}
        except FileNotFoundError:
            raise ConfigError(f"{p}: config file not found") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"{p}: not valid YAML: {exc}") from None
        if not isinstance(user, dict):
            raise ConfigError(f"{p}: the config must be a mapping of sections (area, inputs, ...)")
        unknown = set(user) - set(cfg)
        if unknown:
            raise ConfigError(f"{p}: unknown section(s) {sorted(unknown)}; known: {sorted(cfg)}")
        if "inputs" in user:
            user["inputs"] = _resolve_paths(user["inputs"], p.parent.resolve())
        for section, key in (("area", "polygon"), ("fetch", "manifest")):
            if isinstance(user.get(section), dict) and user[section].get(key):
                user[section][key] = _resolve_paths(user[section][key], p.parent.resolve())
        cfg = _deep_merge(cfg, user)
    if overrides:
        cfg = _deep_merge(cfg, overrides)
    return validate_config(cfg)


NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
TAG_RE = re.compile(r"^[a-z][a-z0-9_:]{0,60}(=[^=;'\"\\]{1,80})?$")
BGT_RE = re.compile(r"^[a-z]{2,40}(:[a-z0-9 \-]{1,60})?$")

def validate_config(cfg: dict) -> dict:
    """Check every identifier that can end up in SQL, file names or property names against an allow-list.

    Raises ConfigError naming the key and the bad value. Returns cfg for chaining.
    """
    from .area import normalise_municipality

    def bad(key: str, value, why: str):
        raise ConfigError(f"config {key}: {value!r} {why}")

    area = cfg.get("area") or {}
    if area.get("municipality"):
        try:
            normalise_municipality(area["municipality"])
        except ValueError:
            bad("area.municipality", area["municipality"], "is not a municipality code (GM + 4 digits)")
    bbox = area.get("bbox")
    if bbox is not None and (not isinstance(bbox, (list, tuple)) or len(bbox) != 4
                             or not all(isinstance(v, (int, float)) for v in bbox)):
        bad("area.bbox", bbox, "must be [minx, miny, maxx, maxy] in RD New")
    if area.get("polygon") is not None and not isinstance(area["polygon"], str):
        bad("area.polygon", area["polygon"], "must be the path of a GeoJSON polygon file in RD New")
    _validate_fetch(cfg.get("fetch") or {}, bad)
    acc = cfg["access"]
    for name, c in (acc.get("categories") or {}).items():
        if not NAME_RE.match(str(name)):
            bad("access.categories", name, "must be lower-case letters, digits and _ (it becomes dist_<name>_m)")
        for k in ("tags", "unless"):
            if not isinstance((c or {}).get(k) or [], list):
                bad(f"access.categories.{name}.{k}", c.get(k), "must be a list of key=value OSM tags")
            for tag in (c or {}).get(k) or []:
                if not TAG_RE.match(str(tag)):
                    bad(f"access.categories.{name}.{k}", tag, "must look like key=value (OSM tag)")
    for name, w in cfg["score"]["weights"].items():
        if not NAME_RE.match(str(name)):
            bad("score.weights", name, "must be lower-case letters, digits and _")
        if not isinstance(w, (int, float)) or w < 0:
            bad(f"score.weights.{name}", w, "must be a number >= 0")
    from .sources.osm_tags import landuse_class_loaded
    pl = cfg["plots"]
    for key, tags in (("plots.exclude_osm", pl["exclude_osm"]), ("plots.penalise_osm", list(pl["penalise_osm"] or {}))):
        for tag in tags:
            if not TAG_RE.match(str(tag)) or "=" not in str(tag):
                bad(key, tag, "must look like key=value or key=*")
            if not landuse_class_loaded(tag):
                bad(key, tag, "is not a land-use class the OSM reader loads (see sources/osm_tags.py LANDUSE_RULES)")
    for key, items in (("plots.exclude_bgt", pl["exclude_bgt"]), ("plots.penalise_bgt", list(pl["penalise_bgt"] or {}))):
        for item in items:
            if not BGT_RE.match(str(item)):
                bad(key, item, "must look like laag or laag:klasse")
    for name in (cfg["plots"]["exclude_raster"] or {}):
        if not NAME_RE.match(str(name)):
            bad("plots.exclude_raster", name, "must be lower-case letters, digits and _")
    for kind in ((cfg.get("inputs") or {}).get("rasters") or {}):
        if not NAME_RE.match(str(kind)):
            bad("inputs.rasters", kind, "must be lower-case letters, digits and _")
    typed_sections(cfg)
    return cfg


# The typed sections: per section a frozen dataclass beside the code that reads it, with a
# ``from_config(cfg)`` that reads every key of its section (no default restated: the defaults live in
# config/default.yaml only; tests/test_config_types.py checks that dropping any key is refused) and
# raises one ConfigError line naming a bad key. ``load_config`` builds them all, so a wrong value is
# refused when the config is read, not half-way through a night. Sections that read files are built
# where the run starts instead (``demand``: DemandConfig reads inputs.demand, checked by
# stages.required_inputs before a run; ``area``: the polygon file), so loading a config never reads data.
TYPED_SECTIONS: dict[str, str] = {
    "ingest": "plekzoeker.db.guards:LoadPolicy",
    "vacancy": "plekzoeker.scoring.vacancy_config:VacancyConfig",
    "plots": "plekzoeker.scoring.plots_config:PlotsConfig",
    "access": "plekzoeker.scoring.criteria_config:AccessConfig",
    "score.thresholds": "plekzoeker.scoring.criteria_config:ScoreConfig",
    "facts": "plekzoeker.scoring.facts:FactsConfig",
    "capacity": "plekzoeker.scoring.capacity:CapacityConfig",
    "quick_scan": "plekzoeker.scoring.flags:QuickScanConfig",
    "score": "plekzoeker.scoring.profiles:Profiles",
    "score.stability": "plekzoeker.scoring.stability:StabilityConfig",
    "owners": "plekzoeker.scoring.profiles:OwnerPriority",
    "long_vacancy": "plekzoeker.scoring.ranking:RankingConfig",
    "transit": "plekzoeker.scoring.transit_config:TransitConfig",
    "dask": "plekzoeker.pipelines.dask_runner:DaskSettings",
    "publish": "plekzoeker.outputs.publish_options:PublishOptions",
    "fetch": "plekzoeker.sources.fetch.http:HttpPolicy",
    "ledger": "plekzoeker.db.ledger:Retention",
}


def section_type(name: str) -> type:
    """The typed reader of a config section (imported on use: the modules stay light to import)."""
    import importlib

    module, cls = TYPED_SECTIONS[name].split(":")
    return getattr(importlib.import_module(module), cls)


def typed_sections(cfg: dict) -> dict[str, object]:
    """Every typed section built from ``cfg`` (ConfigError on the first bad value)."""
    out = {}
    for name in TYPED_SECTIONS:
        t = section_type(name)
        out[name] = t.from_config(cfg["fetch"]) if name == "fetch" else t.from_config(cfg)
    return out


FETCH_SERVICES = ("bestuurlijke_gebieden", "bag", "kadastralekaart", "bgt", "overpass", "natura2000", "bag3d_tile_index")
FETCH_EXTRAS = ("natura2000", "3dbag")   # optional datasets of `plekzoeker fetch` (fetch.extras)
URL_RE = re.compile(r"^https?://[A-Za-z0-9.\-]+(:\d{1,5})?(/[A-Za-z0-9._~\-/%]*)?$")


def _validate_fetch(fc: dict, bad) -> None:
    ep = fc.get("endpoints") or {}
    for name in FETCH_SERVICES:
        if not isinstance(ep.get(name), str) or not URL_RE.match(ep[name]):
            bad(f"fetch.endpoints.{name}", ep.get(name), "must be an http(s) base URL without query")
    for name in set(ep) - set(FETCH_SERVICES):
        bad("fetch.endpoints", name, f"is not a known service ({', '.join(FETCH_SERVICES)})")
    for key in ("max_age_days", "timeout_s", "backoff_s", "max_backoff_s", "poll_interval_s", "max_request_km2"):
        if key in fc and (not isinstance(fc[key], (int, float)) or isinstance(fc[key], bool) or fc[key] < 0):
            bad(f"fetch.{key}", fc[key], "must be a number >= 0")
    for key in ("retries", "page_limit", "max_pages", "max_polls", "bag3d_max_tiles"):
        if key in fc and (not isinstance(fc[key], int) or isinstance(fc[key], bool) or fc[key] < 1):
            bad(f"fetch.{key}", fc[key], "must be a whole number >= 1")
    if fc.get("max_request_km2") == 0:
        bad("fetch.max_request_km2", 0, "must be > 0")
    extras = fc.get("extras") or []
    if not isinstance(extras, list) or any(x not in FETCH_EXTRAS for x in extras):
        bad("fetch.extras", extras, f"must be a list of {', '.join(FETCH_EXTRAS)}")
    if "natura2000_collection" in fc and not NAME_RE.match(str(fc["natura2000_collection"])):
        bad("fetch.natura2000_collection", fc["natura2000_collection"], "must be an OGC API collection id")
    for key in ("kadastralekaart_featuretypes", "bgt_featuretypes"):
        for t in fc.get(key) or []:
            if not NAME_RE.match(str(t)):
                bad(f"fetch.{key}", t, "must be lower-case letters, digits and _ (a PDOK featuretype)")


def config_hash(cfg: dict, sections: tuple[str, ...] | None = None) -> str:
    """A stable hash of (some sections of) the config, for incremental runs."""
    part = {k: cfg.get(k) for k in sections} if sections else cfg
    return hashlib.sha256(json.dumps(part, sort_keys=True, default=str).encode()).hexdigest()[:16]


@dataclass
class Settings:
    home: Path = field(default_factory=lambda: Path(os.environ.get("PLEKZOEKER_HOME", ".plekzoeker")).resolve())
    database_url: str | None = field(default_factory=lambda: os.environ.get("DATABASE_URL") or None)

    @property
    def external_db(self) -> bool:
        return self.database_url is not None


def get_settings() -> Settings:
    return Settings()
