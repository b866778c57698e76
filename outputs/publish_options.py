"""The ``publish`` section as one frozen type: where, how long, what the map and the lists show.

Built when the config is read (``settings.load_config``) from the validators beside the code that uses
each key (the map's tiles and paging, its context, the lists' hiding of declined places), so a wrong
value is one line at start. Every key is required: the defaults live in config/default.yaml only.
"""
from __future__ import annotations

from dataclasses import dataclass

from plekzoeker.errors import ConfigError
from plekzoeker.outputs.context import ContextOptions
from plekzoeker.outputs.html_map import tiles_option
from plekzoeker.outputs.map_pages import max_candidates
from plekzoeker.outputs.outreach_lists import ListOptions

KEYS = ("out_dir", "keep_days", "rank_move_threshold", "outreach_hide", "outreach_mode", "map_tiles", "map_max_candidates",
        "map_context", "map_context_candidates", "map_context_margin_m", "map_context_simplify_m", "map_context_max_bytes")


@dataclass(frozen=True)
class PublishOptions:
    """The ``publish`` section (documented in config/default.yaml)."""

    out_dir: str
    keep_days: int
    rank_move_threshold: int
    map_tiles: dict | None
    map_max_candidates: int
    context: ContextOptions
    lists: ListOptions

    @classmethod
    def from_config(cls, cfg: dict) -> PublishOptions:
        """Read and check ``cfg["publish"]`` (one ConfigError line naming a bad key)."""
        p = cfg.get("publish")
        missing = [k for k in KEYS if not isinstance(p, dict) or k not in p]
        if missing:
            raise ConfigError(f"config publish: {', '.join(missing)} missing (see config/default.yaml)")
        if not isinstance(p["out_dir"], str) or not p["out_dir"]:
            raise ConfigError(f"config publish.out_dir: {p['out_dir']!r} must be a folder name")
        for key in ("keep_days", "rank_move_threshold"):
            v = p[key]
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ConfigError(f"config publish.{key}: {v!r} must be a whole number >= 0")
        return cls(out_dir=p["out_dir"], keep_days=p["keep_days"], rank_move_threshold=p["rank_move_threshold"],
                   map_tiles=tiles_option(cfg), map_max_candidates=max_candidates(cfg),
                   context=ContextOptions.from_config(cfg), lists=ListOptions.from_config(cfg))
