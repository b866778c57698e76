"""The coordinators' list as a frame: which candidates are on it, in what order, with which columns.

Every ranked candidate is listed, and every candidate with an outreach record that is not ranked
now (gone, or excluded by scoring) stays on it with its state, so a coordinator's notes never
silently disappear. Candidates with a status in ``publish.outreach_hide`` (default declined,
unsuitable) sink to the bottom (``publish.outreach_mode: sink``) or drop out (``drop``).

Owner names are personal data: they are read from ``core.owner`` only when the caller asks for
them (``with_owner_names=True``) and then only written into these lists, never into GeoJSON/HTML.
The SQL is in ``outputs/sql/outreach.sql``.
"""
from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from plekzoeker.db.models import OUTREACH_STATUSES
from plekzoeker.db.owners import owners
from plekzoeker.db.sqlfile import named_statements
from plekzoeker.errors import ConfigError
from plekzoeker.numbers import finite_or_none
from plekzoeker.outputs.facts_columns import COLUMNS as FACT_COLUMNS
from plekzoeker.outputs.facts_columns import add_fact_columns
from plekzoeker.outputs.geojson import BAG_VIEWER
from plekzoeker.outputs.outreach_words import what_it_is, why
from plekzoeker.outputs.ranking_columns import LIST_COLUMNS as RANKING_LIST_COLUMNS
from plekzoeker.outputs.ranking_columns import LIST_SPLIT, RANKING_JOIN, list_columns, owner_groups

log = logging.getLogger(__name__)

SQL = named_statements(Path(__file__).with_name("sql") / "outreach.sql")
STATUSES: tuple[str, ...] = OUTREACH_STATUSES
LIST_SQL = SQL["list"].replace("{open_conflicts}", SQL["open_conflicts"]).replace("{ranking_join}", RANKING_JOIN)
OWNER_COUNT_SQL = SQL["owner_count"]


@dataclass(frozen=True)
class ListOptions:
    """``publish.outreach_hide`` / ``publish.outreach_mode`` (documented, with defaults, in config/default.yaml)."""

    hide: tuple[str, ...]
    mode: str  # sink | drop

    @classmethod
    def from_config(cls, cfg: dict) -> ListOptions:
        """Read and check the two keys (ConfigError naming a bad one)."""
        pub = cfg.get("publish") or {}
        if "outreach_hide" not in pub or "outreach_mode" not in pub:
            raise ConfigError("config publish: outreach_hide and outreach_mode are required (see config/default.yaml)")
        hide_raw = pub["outreach_hide"]
        if hide_raw is None:
            hide_raw = []
        if isinstance(hide_raw, str):
            hide_raw = [hide_raw]
        hide = []
        for v in hide_raw:
            try:
                hide.append(normalise_status(v))
            except ValueError as exc:
                raise ConfigError(f"config publish.outreach_hide: {exc}") from None
        mode = str(pub["outreach_mode"]).strip().lower()
        if mode not in ("sink", "drop"):
            raise ConfigError(f"config publish.outreach_mode: {mode!r} must be sink or drop")
        return cls(hide=tuple(hide), mode=mode)


def list_options(cfg: dict) -> ListOptions:
    """``publish.outreach_hide`` / ``publish.outreach_mode`` from the config, validated."""
    return ListOptions.from_config(cfg)


def normalise_status(value: object) -> str:
    """'In Talks', 'in_talks', ' contacted ' -> the canonical status; ValueError naming the choices."""
    text = re.sub(r"[\s_\-]+", " ", str(value if value is not None else "")).strip().lower()
    if text in STATUSES:
        return text
    raise ValueError(f"status {value!r} is not one of {', '.join(STATUSES)}")


def municipality_of(key: str, known: dict[str, str] | None = None) -> str | None:
    """Municipality of a candidate no longer in result.candidate: from an earlier publish, or the BAG id prefix."""
    if known and known.get(key):
        return known[key]
    if key.startswith("pand:") and re.fullmatch(r"[0-9]{16}", key[5:]):
        return f"GM{key[5:9]}"
    return None


def owner_export_loaded(conn: sa.Connection) -> bool:
    return bool(conn.execute(sa.text(OWNER_COUNT_SQL)).scalar())


def list_frame(conn: sa.Connection, municipality: str | None = None, with_owner_names: bool = False,
               known_municipality: dict[str, str] | None = None) -> pd.DataFrame:
    """One row per list entry (unordered), with the columns of ``LIST_COLUMNS`` plus ``state``.

    ``state`` is ``ranked``, ``gone`` (in candidate_history with gone_since) or ``not ranked``.
    """
    raw = pd.DataFrame(conn.execute(sa.text(LIST_SQL)).mappings().all())
    if raw.empty:
        return pd.DataFrame(columns=[*LIST_COLUMNS, "state"])
    raw["municipality"] = [m if isinstance(m, str) and m else municipality_of(k, known_municipality)
                           for k, m in zip(raw["candidate_key"], raw["municipality"])]
    if municipality:
        raw = raw[raw["municipality"] == municipality]
    names = with_owner_names and owner_export_loaded(conn)
    if with_owner_names and not names:
        log.warning("outreach: owner names asked for, but no owner export is loaded (plekzoeker ingest signals owners)")
    own = owners(conn, list(raw["candidate_key"]), owner_export_loaded(conn)).set_index("candidate_key")  # names: grouping
    out = pd.DataFrame({
        "rank": raw["rank_municipality"].astype("Int64"),
        "candidate_key": raw["candidate_key"],
        "address_or_parcel": raw["label"],
        "what": [what_it_is(k, a, d) for k, a, d in zip(raw["kind"], raw["area_m2"], raw["details"])],
        "area_m2": [None if finite_or_none(a) is None else round(float(a)) for a in raw["area_m2"]],
        "score": [None if finite_or_none(s) is None else round(float(s), 3) for s in raw["score"]],
        "why": [why(k, c, s, w, e) for k, c, s, w, e in zip(raw["kind"], raw["criteria"], raw["subscores"],
                                                            raw["weights"], raw["evidence"])],
        "owner_kind": [str(own["owner_kind"].get(k) or "").replace("_", " ") or None for k in raw["candidate_key"]],
        "owner_name": [own["owner_name"].get(k) if names else None for k in raw["candidate_key"]],
        "outreach_status": raw["outreach_status"].fillna("new"),
        "outreach_note": raw["outreach_note"],
        "outreach_conflict": raw["outreach_conflict"],
        "outreach_version": raw["outreach_version"].astype("int64"),
        "first_seen": raw["first_seen"],
        "gone_since": raw["gone_since"],
        "municipality": raw["municipality"],
        "rank_overall": raw["rank"].astype("Int64"),
        "kind": raw["kind"],
        "confidence": raw["confidence"],
        "bag_viewer": [BAG_VIEWER.format(d["pand_id"]) if k == "vacant_building" and isinstance(d, dict) and d.get("pand_id")
                       else None for k, d in zip(raw["kind"], raw["details"])],
    })
    out = pd.concat([out, list_columns(raw["ranking"], out["rank"]),
                     owner_groups(raw["candidate_key"], raw["candidate_key"].map(own["owner_name"]),
                                  raw["candidate_key"].map(own["owner_kind"]), raw["rank"])], axis=1)
    ranked = raw["rank"].notna().to_numpy()
    gone = raw["gone_since"].notna().to_numpy()
    out["state"] = ["ranked" if r else "gone" if g else "not ranked" for r, g in zip(ranked, gone)]
    not_ranked = [f"not ranked: {x}" if isinstance(x, str) and x else "not ranked now"
                  for x in raw["excluded_reason"]]
    out.loc[out["state"] == "not ranked", "why"] = [n for n, st in zip(not_ranked, out["state"]) if st == "not ranked"]
    out.loc[out["state"] == "gone", "why"] = "no longer found"
    if not names:
        out = out.drop(columns=["owner_name"])
    out = add_fact_columns(out, conn, for_list=True)
    return out.reset_index(drop=True)


LIST_COLUMNS = ["rank", "candidate_key", "address_or_parcel", "what", "area_m2", "score", "why", *RANKING_LIST_COLUMNS[:LIST_SPLIT],
                "owner_kind", "owner_name", *RANKING_LIST_COLUMNS[LIST_SPLIT:], "outreach_status", "outreach_note",
                "outreach_conflict", "outreach_version", "first_seen", "gone_since", "municipality",
                "rank_overall", "kind", "confidence", "bag_viewer", *FACT_COLUMNS]


def order_list(df: pd.DataFrame, opts: ListOptions) -> pd.DataFrame:
    """Ranked candidates first (by rank), then gone / unranked ones with notes, then hidden statuses
    (``sink``) — or without the hidden ones (``drop``)."""
    if df.empty:
        return df
    hidden = df["outreach_status"].isin(opts.hide)
    df = df.assign(_group=[2 if h else 0 if st == "ranked" else 1 for h, st in zip(hidden, df["state"])])
    if opts.mode == "drop":
        df = df[df["_group"] != 2]
    df = df.assign(_r=df["rank_overall"].astype("Float64").fillna(math.inf),
                   _fs=df["first_seen"].astype(str))
    return df.sort_values(["_group", "_r", "_fs", "candidate_key"]).drop(columns=["_group", "_r", "_fs"]).reset_index(drop=True)
