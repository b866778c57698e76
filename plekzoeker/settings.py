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


def load_config(path: str | Path | None = None, overrides: dict | None = None) -> dict:
    """Return the effective config: defaults, then the YAML file, then ``overrides``."""
    try:
        cfg = yaml.safe_load(DEFAULT_CONFIG.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:  # pragma: no cover - packaging error
        raise ConfigError(f"{DEFAULT_CONFIG}: cannot read the default config: {exc}") from exc
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
        cfg = _deep_merge(cfg, user)
    if overrides:
        cfg = _deep_merge(cfg, overrides)
    return cfg


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
