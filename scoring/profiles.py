"""Weights per municipality (``score.profiles``) and the owner priority (``owners``), read once, validated.

A profile replaces some of ``score.weights`` for the candidates of one municipality; ``default`` (when
given) does so for every municipality without its own profile. So every candidate is scored with
exactly one weight set, named by :meth:`Profiles.name_for` and stored with it: a municipality's
profile never changes the scores of another municipality.

Owner priority maps an owner kind to a tier (1 = approach first). The ``owner`` sub-score is linear in
the tier, 1 for the first tier and 0 for the last, and not applicable (NaN) when the owner is unknown:
an unknown owner is neither a public body nor a private person.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

from plekzoeker.errors import ConfigError

GM_RE = re.compile(r"^GM[0-9]{4}$")
NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
DEFAULT = "default"


def _weights(key: str, w) -> dict[str, float]:
    if not isinstance(w, dict):
        raise ConfigError(f"config {key}: {w!r} must be a mapping of criterion -> weight")
    out = {}
    for name, v in w.items():
        if not NAME_RE.match(str(name)):
            raise ConfigError(f"config {key}: {name!r} must be lower-case letters, digits and _")
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
            raise ConfigError(f"config {key}.{name}: {v!r} must be a number >= 0")
        out[str(name)] = float(v)
    return out


@dataclass(frozen=True)
class Profiles:
    base: dict[str, float]                      # score.weights
    profiles: dict[str, dict[str, float]]       # name (GMxxxx or 'default') -> full weight set

    @classmethod
    def from_config(cls, cfg: dict) -> Profiles:
        """``score.weights`` and ``score.profiles``, validated: profile names are GMxxxx or 'default',
        each has only a ``weights`` mapping whose criteria exist in score.weights."""
        s = cfg.get("score") or {}
        base = _weights("score.weights", s.get("weights"))
        raw = s.get("profiles") or {}
        if not isinstance(raw, dict):
            raise ConfigError(f"config score.profiles: {raw!r} must be a mapping of GMxxxx/default -> {{weights: ...}}")
        out = {}
        for name, p in raw.items():
            if name != DEFAULT and not GM_RE.match(str(name)):
                raise ConfigError(f"config score.profiles: {name!r} must be a municipality code GMxxxx or 'default'")
            if not isinstance(p, dict) or set(p) - {"weights"}:
                raise ConfigError(f"config score.profiles.{name}: {p!r} must be {{weights: {{criterion: weight}}}}")
            w = _weights(f"score.profiles.{name}.weights", p.get("weights") or {})
            unknown = sorted(set(w) - set(base))
            if unknown:
                raise ConfigError(f"config score.profiles.{name}.weights: {unknown[0]!r} is not a criterion of "
                                  f"score.weights ({', '.join(sorted(base))})")
            out[str(name)] = w
        return cls(base, {name: {**base, **w} for name, w in out.items()})

    def name_for(self, municipality: str | None) -> str:
        """The profile that scores a municipality's candidates."""
        if municipality in self.profiles:
            return str(municipality)
        return DEFAULT

    def weights_for(self, name: str) -> dict[str, float]:
        return self.profiles.get(name, self.base)

    def as_dict(self) -> dict:
        """What is stored with the run: the weight set of every profile ('default' always present)."""
        return {DEFAULT: self.weights_for(DEFAULT), **{k: v for k, v in self.profiles.items() if k != DEFAULT}}


@dataclass(frozen=True)
class OwnerPriority:
    tiers: dict[str, int]
    unknown_tier: int
    sort_by_tier: bool

    @classmethod
    def from_config(cls, cfg: dict) -> OwnerPriority:
        """The ``owners`` section, validated."""
        from plekzoeker.db.owners import OWNER_KINDS

        o = cfg.get("owners")
        if not isinstance(o, dict):
            raise ConfigError(f"config owners: {o!r} must be a mapping (see config/default.yaml)")
        pr = o.get("priority") or {}
        if not isinstance(pr, dict):
            raise ConfigError(f"config owners.priority: {pr!r} must be a mapping of owner kind -> tier")
        for k, v in pr.items():
            if k not in OWNER_KINDS:
                raise ConfigError(f"config owners.priority: {k!r} is not an owner kind ({', '.join(OWNER_KINDS)})")
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ConfigError(f"config owners.priority.{k}: {v!r} must be a whole number >= 1 (1 = first)")
        unknown = o.get("unknown_tier")
        if isinstance(unknown, bool) or not isinstance(unknown, int) or unknown < 1:
            raise ConfigError(f"config owners.unknown_tier: {unknown!r} must be a whole number >= 1")
        if not isinstance(o.get("sort_by_tier"), bool):
            raise ConfigError(f"config owners.sort_by_tier: {o.get('sort_by_tier')!r} must be true or false")
        return cls({str(k): int(v) for k, v in pr.items()}, unknown, o["sort_by_tier"])

    def tier(self, owner_kind: str | None) -> int | None:
        """The tier of a known owner kind (kinds left out of the priority: the last tier); None when unknown."""
        if not owner_kind:
            return None
        return self.tiers.get(owner_kind, self.last)

    @property
    def last(self) -> int:
        return max([*self.tiers.values(), 1])

    def subscore(self, owner_kind: str | None) -> float:
        """1 for tier 1, 0 for the last tier, linear between; NaN when the owner is unknown."""
        t = self.tier(owner_kind)
        if t is None:
            return math.nan
        return 1.0 if self.last == 1 else (self.last - t) / (self.last - 1)

    def sort_tier(self, owner_kind: str | None) -> int:
        t = self.tier(owner_kind)
        return self.unknown_tier if t is None else t
