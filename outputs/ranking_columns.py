"""The ranking's columns in the published layers and the coordinator lists (from result.ranking).

The publish queries select ``to_jsonb(r) AS ranking`` from a LEFT JOIN of result.ranking, so a
candidate scored before the table existed simply has empty columns (unknown), never zeros.
Owner *kinds* stay out of the GeoJSON and the map (only the priority tier goes there); the lists carry
the kind, as before. Owner names never appear here: grouping by owner uses a number per owner.
"""
from __future__ import annotations

import hashlib

import pandas as pd

RANKING_JOIN = "LEFT JOIN result.ranking r USING (candidate_key)"
LAYER_PROPERTY_DOCS = {
    "score_relative": "percentile of the score among the ranked candidates of the municipality (1 = best); the map "
                      "and QGIS colour by it",
    "people_low": "capacity: fewest people the place could house (rule of thumb, config capacity)",
    "people_high": "capacity: most people", "homes_low": "capacity: fewest homes", "homes_high": "capacity: most homes",
    "capacity_basis": "how the capacity was computed, in words",
    "flags": "quick-scan flags in words ('; '-separated): monument, asbestos, energy label, deep plan, small units",
    "owner_priority": "tier of the owner kind in owners.priority (1 = approach first); empty: owner unknown",
    "offered": "true when the owner offered this place (ranked first)",
    "profile": "the score profile (weights) used: a municipality code of score.profiles, or default",
    "rank_range": "rank within the municipality and its range when every weight varies by ±25 %",
    "flagged_since": "date of the first run that found this place", "months_flagged": "months since then",
}


def _get(r, key):
    return (r or {}).get(key) if isinstance(r, dict) else None


def rank_range(rank, lo, hi) -> str | None:
    """'rank 3, between 2 and 5' or 'rank 3, stable'; None when unranked."""
    if rank is None or pd.isna(rank):
        return None
    if lo is None or hi is None or pd.isna(lo) or pd.isna(hi):
        return f"rank {int(rank)}"
    if int(lo) == int(hi):
        return f"rank {int(rank)}, stable under varied weights"
    return f"rank {int(rank)}, between {int(lo)} and {int(hi)}"


def capacity_words(r: dict | None) -> str | None:
    """'25–36 people, 18–30 homes' (None when unknown)."""
    pl, ph, hl, hh = (_get(r, k) for k in ("people_low", "people_high", "homes_low", "homes_high"))
    if pl is None or ph is None:
        return None
    return f"{pl}–{ph} people, {hl}–{hh} homes"


def layer_columns(ranking: pd.Series, rank_municipality: pd.Series) -> pd.DataFrame:
    """The flat GeoJSON/GeoPackage properties of the ranking (see :data:`LAYER_PROPERTY_DOCS`)."""
    rs = list(ranking)
    out = pd.DataFrame({"score_relative": [_get(r, "score_relative") for r in rs]}, index=ranking.index)
    for k in ("people_low", "people_high", "homes_low", "homes_high", "capacity_basis"):
        out[k] = [_get(r, k) for r in rs]
    out["flags"] = ["; ".join(_get(r, "flags") or []) or None for r in rs]
    out["owner_priority"] = [_get(r, "owner_tier") for r in rs]
    out["offered"] = [bool(_get(r, "offered")) for r in rs]
    out["profile"] = [_get(r, "profile") for r in rs]
    out["rank_range"] = [rank_range(k, _get(r, "rank_low"), _get(r, "rank_high"))
                         for k, r in zip(rank_municipality, rs)]
    out["flagged_since"] = [_get(r, "flagged_since") for r in rs]
    out["months_flagged"] = [_get(r, "months_flagged") for r in rs]
    return out


def owner_groups(keys: pd.Series, owner_name: pd.Series, owner_kind: pd.Series, order: pd.Series) -> pd.DataFrame:
    """owner_group ('owner 2 of 5: 3 places') and owner_places per list row; empty when the owner is unknown.

    Owners are numbered by their best-placed candidate (``order``: the overall rank), so a coordinator reads the
    groups top-down and calls each owner once about all of their places. The grouping key is a hash of
    kind and name, computed here and never written anywhere.
    """
    ident = [hashlib.sha256(f"{k}\x00{n}".encode()).hexdigest() if isinstance(n, str) and n else None
             for k, n in zip(owner_kind, owner_name)]
    counts: dict[str, int] = {}
    for i in ident:
        if i:
            counts[i] = counts.get(i, 0) + 1
    numbers: dict[str, int] = {}
    by_rank = sorted(range(len(ident)), key=lambda j: (pd.isna(order.iloc[j]), 0 if pd.isna(order.iloc[j])
                                                        else float(order.iloc[j]), str(keys.iloc[j])))
    for i in (ident[j] for j in by_rank):
        if i and i not in numbers:
            numbers[i] = len(numbers) + 1
    return pd.DataFrame({"owner_group": [f"owner {numbers[i]}" if i else None for i in ident],
                         "owner_places": [counts[i] if i else None for i in ident]}, index=keys.index)


def list_columns(ranking: pd.Series, rank_municipality: pd.Series) -> pd.DataFrame:
    """The ranking's columns of the coordinator list: capacity, vetoes, flags, owner priority, profile, rank range."""
    rs = list(ranking)
    out = pd.DataFrame({"capacity": [capacity_words(r) for r in rs]}, index=ranking.index)
    out["vetoes"] = ["; ".join(_get(r, "vetoes") or []) or None for r in rs]
    out["flags"] = ["; ".join(_get(r, "flags") or []) or None for r in rs]
    out["owner_priority"] = [_get(r, "owner_tier") for r in rs]
    out["offered"] = [(_get(r, "offer") or "offered by owner") if _get(r, "offered") else None for r in rs]
    out["profile"] = [_get(r, "profile") for r in rs]
    out["rank_range"] = [rank_range(k, _get(r, "rank_low"), _get(r, "rank_high"))
                         for k, r in zip(rank_municipality, rs)]
    out["months_flagged"] = [_get(r, "months_flagged") for r in rs]
    for k in ("people_low", "people_high", "homes_low", "homes_high"):
        out[k] = [_get(r, k) for r in rs]
    return out


LIST_COLUMNS = ["rank_range", "capacity", "offered", "vetoes", "flags", "owner_priority", "owner_group", "owner_places",
                "profile", "months_flagged", "people_low", "people_high", "homes_low", "homes_high"]
LIST_SPLIT = 8   # the first LIST_SPLIT columns stand before owner_kind in the list, the rest after it
OWNER_SHEET = "by owner"
OWNER_SHEET_COLUMNS = ["owner_group", "owner_kind", "owner_name", "owner_places", "owner_priority", "rank",
                       "address_or_parcel", "what", "capacity", "flags", "outreach_status", "candidate_key"]


def owner_sheet(df: pd.DataFrame) -> tuple[list[str], list[list]]:
    """The list's 'by owner' sheet: one block per owner (best tier first, then by the owner's best rank), so
    a coordinator makes one call per owner about all of their places. Rows without a known owner are left out."""
    cols = [c for c in OWNER_SHEET_COLUMNS if c in df.columns]
    part = df[df["owner_group"].notna()] if "owner_group" in df.columns else df.iloc[0:0]
    if part.empty:
        return cols, []
    num = part["owner_group"].str.extract(r"(\d+)")[0].astype(int)
    tier = pd.to_numeric(part["owner_priority"], errors="coerce").fillna(99)
    part = part.assign(_t=tier.groupby(num).transform("min"), _n=num,
                       _r=pd.to_numeric(part["rank"], errors="coerce").fillna(10**9))
    part = part.sort_values(["_t", "_n", "_r"])
    return cols, [[None if pd.isna(v) else v for v in rec] for rec in part[cols].itertuples(index=False)]
