"""Demand per municipality: the config's ``demand`` section and the CSV named by ``inputs.demand``.

Each municipality's demand is the half-yearly status-holder target (taakstelling, Huisvestingswet 2014)
and a homelessness estimate (e.g. CBS per region of central municipalities), with the period and source
of the figures. Two places may give it:

- ``demand: {GM0228: {status_holders: 120, homeless: 300, period: 2026-H1, source: ...}}`` in the config;
- ``inputs.demand: demand.csv``: a CSV (``,`` or ``;``) with a column ``municipality`` (``GM0228`` or
  ``0228``; also ``gemeentecode``) and at least one of ``status_holders`` (``taakstelling``) and
  ``homeless`` (``dakloos``, ``daklozen``), optionally ``period`` (``periode``) and ``source`` (``bron``).
  One row per municipality; an empty cell is unknown.

**The config wins, field by field**: a figure set in the config replaces the CSV's figure for that
municipality (a planner corrects one municipality in their own YAML without editing a national file);
the figures the config leaves out come from the CSV. ``source`` then names both when both contributed.
Everything is validated before it is used: a missing file or column, a bad municipality code, a
negative or fractional number or a municipality listed twice is a :class:`SourceError` naming the file
(and line) and the problem, a bad config entry a :class:`ConfigError` naming the key.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from plekzoeker.errors import ConfigError, SourceError

DEMAND_KEYS = ("status_holders", "homeless", "period", "source")
NUMBERS = ("status_holders", "homeless")
GM_CELL = re.compile(r"^(GM)?(\d{4})$", re.IGNORECASE)
GM_KEY = re.compile(r"^GM\d{4}$")
ALIASES = {"municipality": ("municipality", "gemeentecode", "gemeente_code", "gm_code"),
           "status_holders": ("status_holders", "taakstelling"),
           "homeless": ("homeless", "dakloos", "daklozen"),
           "period": ("period", "periode"), "source": ("source", "bron")}


@dataclass(frozen=True)
class Demand:
    status_holders: int | None
    homeless: int | None
    source: str | None
    period: str | None = None

    @property
    def people(self) -> int | None:
        known = [v for v in (self.status_holders, self.homeless) if v is not None]
        return sum(known) if known else None


def _whole(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _config_demand(cfg: dict) -> dict[str, dict]:
    raw = cfg.get("demand") or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"config demand: {raw!r} must be a mapping of GMxxxx -> {{{', '.join(DEMAND_KEYS)}}}")
    out = {}
    for gm, d in raw.items():
        if not GM_KEY.match(str(gm)):
            raise ConfigError(f"config demand: {gm!r} must be a municipality code GMxxxx")
        if not isinstance(d, dict) or set(d) - set(DEMAND_KEYS):
            raise ConfigError(f"config demand.{gm}: {d!r} must have only {', '.join(DEMAND_KEYS)}")
        for k in NUMBERS:
            if d.get(k) is not None and not _whole(d[k]):
                raise ConfigError(f"config demand.{gm}.{k}: {d[k]!r} must be a whole number of people >= 0")
        out[str(gm)] = {k: (None if d.get(k) is None else (d[k] if k in NUMBERS else str(d[k]))) for k in DEMAND_KEYS}
    return out


def read_demand_csv(path: str | Path) -> dict[str, dict]:
    """GMxxxx -> {status_holders, homeless, period, source} from a demand CSV (module doc), validated."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SourceError(p, "demand file not found (inputs.demand)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(p, f"cannot read the demand CSV: {exc}") from None
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise SourceError(p, "the demand CSV is empty (expected a header with municipality, status_holders, homeless)")
    delim = ";" if lines[0].count(";") > lines[0].count(",") else ","
    reader = csv.reader(lines, delimiter=delim)
    header = [h.strip().lower() for h in next(reader)]
    col = {}
    for name, names in ALIASES.items():
        hits = [i for i, h in enumerate(header) if h in names]
        if hits:
            col[name] = hits[0]
    if "municipality" not in col:
        raise SourceError(p, f"missing column municipality (or gemeentecode); columns: {', '.join(header)}")
    if not set(NUMBERS) & set(col):
        raise SourceError(p, f"missing column status_holders (taakstelling) or homeless; columns: {', '.join(header)}")
    out: dict[str, dict] = {}
    first: dict[str, int] = {}
    for line_no, row in enumerate(reader, start=2):
        if not any(c.strip() for c in row):
            continue
        cell = {k: (row[i].strip() if i < len(row) else "") for k, i in col.items()}
        m = GM_CELL.match(cell["municipality"])
        if not m:
            raise SourceError(p, f"line {line_no}: municipality {cell['municipality']!r} is not a municipality code "
                                 "(GM + 4 digits, or 4 digits)")
        gm = f"GM{m.group(2)}"
        if gm in out:
            raise SourceError(p, f"line {line_no}: {gm} is listed twice (also on line {first[gm]}); keep one row "
                                 "per municipality")
        rec: dict = {"period": cell.get("period") or None, "source": cell.get("source") or None}
        for k in NUMBERS:
            v = cell.get(k, "")
            if not v:
                rec[k] = None
            elif re.fullmatch(r"\d+", v):
                rec[k] = int(v)
            else:
                raise SourceError(p, f"line {line_no}: {k} {v!r} for {gm} must be a whole number of people >= 0")
        out[gm], first[gm] = rec, line_no
    return out


def _merge(c: dict | None, f: dict | None, file_name: str) -> Demand:
    """Config ``c`` over file ``f``, field by field (module doc)."""
    c, f = c or {}, f or {}
    nums = {k: c.get(k) if c.get(k) is not None else f.get(k) for k in NUMBERS}
    from_c = any(c.get(k) is not None for k in NUMBERS)
    from_f = any(c.get(k) is None and f.get(k) is not None for k in NUMBERS)
    if from_c and from_f:
        source = f"{c.get('source') or 'config'}; {f.get('source') or file_name}"
    elif from_f:
        source = f.get("source") or file_name
    else:
        source = c.get("source") or (f.get("source") if not c else None)
    return Demand(nums["status_holders"], nums["homeless"], source, c.get("period") or f.get("period"))


@dataclass(frozen=True)
class DemandConfig:
    by_municipality: dict[str, Demand]

    @classmethod
    def from_config(cls, cfg: dict) -> DemandConfig:
        """The config's ``demand`` merged over the CSV of ``inputs.demand`` (module doc), validated."""
        conf = _config_demand(cfg)
        path = (cfg.get("inputs") or {}).get("demand")
        if path is not None and not isinstance(path, str):
            raise ConfigError(f"config inputs.demand: {path!r} must be the path of a demand CSV")
        filed = read_demand_csv(path) if path else {}
        name = Path(path).name if path else ""
        return cls({gm: _merge(conf.get(gm), filed.get(gm), name) for gm in sorted(set(conf) | set(filed))})
