"""The ranking a coordinator acts on: profiles, quick scan, owner priority, capacity and rank ranges.

Called by the score stage instead of a bare :func:`compute_scores`. Per candidate, in this order:

1. the facts (``result.fact``, BAG pand, history; ``sql/ranking_facts.sql``) and the owner kind;
2. three extra sub-scores: ``quick_scan`` (:mod:`.flags`), ``owner`` (tier of the owner kind,
   :class:`.profiles.OwnerPriority`) and ``long_vacancy`` (buildings: months flagged /
   ``long_vacancy.full_months``, capped at 1; not applicable while the run history is shorter than
   that, since then nobody can have been flagged that long);
3. the composite score with the weights of its municipality's profile (:mod:`.profiles`);
4. hard vetoes: a vetoed candidate keeps its reasons (``excluded_reason``) and gets no score or rank;
5. the rank: places offered by their owner first, then (``owners.sort_by_tier``) by owner tier, then by
   score, ties by candidate key — overall and per municipality;
6. ``score_relative``: the percentile of the score among the ranked candidates of its municipality
   (0 = lowest, 1 = highest, ties share the mean). The map and the QGIS style colour by it, so one area's
   candidates spread over the colour ramp even when their absolute scores lie close together; the
   absolute score, the sub-scores and the distances stay next to it, unchanged;
7. the rank range under ±``score.stability.spread`` weights (:mod:`.stability`), per municipality;
8. the capacity range (:mod:`.capacity`).
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from plekzoeker.db import ledger
from plekzoeker.errors import ConfigError

from .capacity import CapacityConfig, capacity
from .flags import Facts, QuickScanConfig, flags, quick_scan_subscore, vetoes
from .offers import offers_by_candidate
from .profiles import OwnerPriority, Profiles
from .score import compute_scores
from .stability import StabilityConfig, rank_ranges

log = logging.getLogger(__name__)

FACTS_SQL = (Path(__file__).parent / "sql" / "ranking_facts.sql").read_text()
HISTORY_START_SQL = "SELECT min(first_seen) FROM result.candidate_history"
RANKING_COLUMNS = ("candidate_key", "profile", "people_low", "people_high", "homes_low", "homes_high", "capacity_basis",
                   "vetoes", "flags", "owner_kind", "owner_tier", "offered", "offer", "flagged_since", "months_flagged",
                   "score_relative", "rank_low", "rank_high", "run_id")


@dataclass(frozen=True)
class RankingConfig:
    capacity: CapacityConfig
    quick_scan: QuickScanConfig
    profiles: Profiles
    owners: OwnerPriority
    stability: StabilityConfig
    full_months: int

    @classmethod
    def from_config(cls, cfg: dict) -> RankingConfig:
        """Every section the ranking reads, validated once (ConfigError naming the key)."""
        months = (cfg.get("long_vacancy") or {}).get("full_months")
        if isinstance(months, bool) or not isinstance(months, int) or months < 1:
            raise ConfigError(f"config long_vacancy.full_months: {months!r} must be a whole number >= 1")
        return cls(CapacityConfig.from_config(cfg), QuickScanConfig.from_config(cfg), Profiles.from_config(cfg),
                   OwnerPriority.from_config(cfg), StabilityConfig.from_config(cfg), months)


def months_between(a: dt.date, b: dt.date) -> int:
    """Whole months from ``a`` to ``b`` (0 when b is before a month after a)."""
    m = (b.year - a.year) * 12 + (b.month - a.month) - (1 if b.day < a.day else 0)
    return max(m, 0)


def _none(v):
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def facts_of(row: dict) -> Facts:
    """A ranking_facts.sql row as :class:`Facts` (the building age from facts, else BAG)."""
    r = {k: _none(v) for k, v in row.items()}
    year, src = (r["fact_bouwjaar"], "facts") if r.get("fact_bouwjaar") is not None else (r.get("bag_bouwjaar"), "BAG")
    return Facts(kind=r["kind"], zoning_verdict=r.get("zoning_verdict"), zoning=r.get("zoning"),
                 zoning_rule=r.get("zoning_rule"), natura2000=r.get("natura2000"), pand_status=r.get("pand_status"),
                 monument=r.get("monument"), bouwjaar=None if year is None else int(year), bouwjaar_source=src,
                 label_rule=r.get("label_rule"), energy_label=r.get("energy_label"), depth_m=r.get("depth_m"),
                 units_vacant=r.get("units_vacant"), vacant_area_m2=r.get("vacant_area_m2"))


def candidate_info(facts: pd.DataFrame, owner_kind: dict[str, str], rc: RankingConfig, today: dt.date,
                   history_start: dt.date | None, offers: dict[str, str] | None = None) -> pd.DataFrame:
    """Per candidate (index candidate_key): the extra sub-scores, vetoes, flags, owner, history, capacity."""
    rows = []
    long_ok = history_start is not None and months_between(history_start, today) >= rc.full_months
    for rec in facts.to_dict("records"):
        f = facts_of(rec)
        found = flags(f, rc.quick_scan)
        kind = owner_kind.get(rec["candidate_key"])
        since = _none(rec.get("first_seen"))
        months = months_between(since, today) if since is not None else None
        cap = capacity(f.kind, rec["area_m2"], rc.capacity, floors=_none(rec.get("floors")),
                       footprint_m2=_none(rec.get("footprint_m2")))
        rows.append({
            "candidate_key": rec["candidate_key"], "municipality": rec["municipality"],
            "quick_scan": quick_scan_subscore(found, rc.quick_scan),
            "owner": rc.owners.subscore(kind),
            "long_vacancy": (min(months / rc.full_months, 1.0) if long_ok and months is not None
                             and f.kind == "vacant_building" else math.nan),
            "vetoes": vetoes(f, rc.quick_scan), "flags": [line for _, line in found],
            "owner_kind": kind, "owner_tier": rc.owners.tier(kind), "sort_tier": rc.owners.sort_tier(kind),
            "offered": rec["candidate_key"] in (offers or {}), "offer": (offers or {}).get(rec["candidate_key"]),
            "flagged_since": since, "months_flagged": months,
            "people_low": cap.people_low, "people_high": cap.people_high, "homes_low": cap.homes_low,
            "homes_high": cap.homes_high, "capacity_basis": cap.basis,
        })
    return pd.DataFrame(rows).set_index("candidate_key") if rows else pd.DataFrame()


def score_by_profile(cands: pd.DataFrame, dist: pd.DataFrame, cfg: dict, rc: RankingConfig,
                     extra: pd.DataFrame, **kw) -> pd.DataFrame:
    """compute_scores per profile over the candidates of its municipalities; adds the ``profile`` column."""
    names = cands["municipality"].map(rc.profiles.name_for)
    parts = []
    for name in sorted(names.unique()):
        pcfg = {**cfg, "score": {**cfg["score"], "weights": rc.profiles.weights_for(name)}}
        part = compute_scores(cands[names == name], dist, None, pcfg, extra=extra, **kw)
        parts.append(part.assign(profile=name))
    return pd.concat(parts, ignore_index=True)


def sort_groups(info: pd.DataFrame, rc: RankingConfig) -> pd.Series:
    """The sort key ranked before the score: offered places first, then the owner tier (when configured)."""
    tier = info["sort_tier"] if rc.owners.sort_by_tier else 0
    return (~info["offered"].astype(bool)).astype(int) * 1000 + tier


def rank_and_relative(out: pd.DataFrame, groups: pd.Series) -> pd.DataFrame:
    """rank, rank_municipality and score_relative of the scored (not vetoed) candidates."""
    out = out.assign(_g=groups.reindex(out["candidate_key"]).to_numpy())
    ok = out[out["score"].notna()]
    ok = ok.sort_values(["_g", "score", "candidate_key"], ascending=[True, False, True])
    rank = pd.Series(np.arange(1, len(ok) + 1), index=ok.index)
    rank_m = ok.groupby(ok["municipality"].fillna(""), sort=False).cumcount() + 1
    pct = ok.groupby(ok["municipality"].fillna(""))["score"].transform(
        lambda s: (s.rank(method="average") - 1) / (len(s) - 1) if len(s) > 1 else s * 0 + 1.0)
    return out.assign(rank=rank.reindex(out.index).astype("Int64"), rank_municipality=rank_m.reindex(out.index).astype("Int64"),
                      score_relative=pct.reindex(out.index).round(4)).drop(columns="_g")


def stability_ranges(out: pd.DataFrame, groups: pd.Series, c: StabilityConfig) -> pd.DataFrame:
    """rank_low / rank_high per municipality over the weight draws (see :mod:`.stability`)."""
    lo = pd.Series(pd.NA, index=out.index, dtype="Int64")
    hi = lo.copy()
    ok = out[out["rank_municipality"].notna()].sort_values("candidate_key")
    for _, part in ok.groupby(ok["municipality"].fillna("")):
        crit = sorted({k for s in part["subscores"] for k in s})
        S = np.array([[np.nan if s.get(k) is None else float(s[k]) for k in crit] for s in part["subscores"]])
        W = np.array([[float(w.get(k, 0.0)) for k in crit] for w in part["weights"]])
        g = groups.reindex(part["candidate_key"]).to_numpy()
        a, b = rank_ranges(S.reshape(len(part), len(crit)), W.reshape(len(part), len(crit)), g, c)
        real = part["rank_municipality"].to_numpy(dtype=int)
        lo[part.index], hi[part.index] = np.minimum(a, real), np.maximum(b, real)
    return out.assign(rank_low=lo, rank_high=hi)


def read_facts(engine: sa.Engine, day: dt.date) -> tuple[pd.DataFrame, dict[str, str], dt.date | None, dict[str, str]]:
    """Facts per candidate, the owner kind per candidate (no names), the first date of the run history and
    the offers (in words, no contact) per candidate."""
    from plekzoeker.db.owners import owners

    with engine.connect() as conn:
        facts = pd.read_sql(sa.text(FACTS_SQL), conn)
        own = owners(conn, list(facts["candidate_key"]), names=False)
        start = conn.execute(sa.text(HISTORY_START_SQL)).scalar()
        offers = offers_by_candidate(conn, facts, day)
    return facts, {k: v for k, v in zip(own["candidate_key"], own["owner_kind"]) if v}, start, offers


def rank_candidates(engine: sa.Engine, cands: pd.DataFrame, dist: pd.DataFrame, cfg: dict, run_id: int,
                    today: dt.date | None = None, **score_kw) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Scores (result.score columns) and ranking rows (result.ranking) of every candidate; and what the run
    stores with itself (the profiles used). ``score_kw``: context / no_data as compute_scores takes them."""
    rc = RankingConfig.from_config(cfg)
    today = today or dt.date.today()
    facts, owner_kind, start, offers = read_facts(engine, today)
    info = candidate_info(facts, owner_kind, rc, today, start, offers)
    extra = info[["quick_scan", "owner", "long_vacancy"]]
    out = score_by_profile(cands, dist, cfg, rc, extra, **score_kw)
    out["municipality"] = out["candidate_key"].map(info["municipality"])
    veto = out["candidate_key"].map(info["vetoes"])
    reasons = [[*([r] if isinstance(r, str) and r else []), *v] for r, v in zip(out["excluded_reason"], veto)]
    out["excluded_reason"] = ["; ".join(r) if r else None for r in reasons]
    out.loc[out["excluded_reason"].notna(), "score"] = np.nan
    groups = sort_groups(info, rc)
    out = stability_ranges(rank_and_relative(out, groups), groups, rc.stability)
    rk = info.reindex(out["candidate_key"]).reset_index()
    ranking = pd.DataFrame({
        "candidate_key": out["candidate_key"], "profile": out["profile"],
        **{c: rk[c].astype("Int64").astype(object).where(rk[c].notna(), None).to_numpy()
           for c in ("people_low", "people_high", "homes_low", "homes_high", "owner_tier", "months_flagged")},
        "capacity_basis": rk["capacity_basis"].to_numpy(),
        "vetoes": [json.dumps(r) for r in reasons], "flags": [json.dumps(f) for f in rk["flags"]],
        "owner_kind": rk["owner_kind"].to_numpy(), "offered": rk["offered"].astype(bool).to_numpy(),
        "offer": rk["offer"].to_numpy(),
        "flagged_since": rk["flagged_since"].to_numpy(),
        "score_relative": out["score_relative"].astype(object).where(out["score_relative"].notna(), None).to_numpy(),
        "rank_low": out["rank_low"].astype(object).where(out["rank_low"].notna(), None).to_numpy(),
        "rank_high": out["rank_high"].astype(object).where(out["rank_high"].notna(), None).to_numpy(),
        "run_id": run_id,
    })[list(RANKING_COLUMNS)]
    n_veto = sum(1 for r, v in zip(out["excluded_reason"], veto) if v)
    log.info("ranking: %d candidate(s), %d vetoed, profiles %s, rank ranges over %d weight draws (±%.0f%%)",
             len(out), n_veto, ", ".join(sorted(out["profile"].unique())), rc.stability.draws, rc.stability.spread * 100)
    scores = out.drop(columns=["municipality", "profile", "score_relative", "rank_low", "rank_high"])
    return scores, ranking, {"score_profiles": rc.profiles.as_dict()}


def save_run_info(engine: sa.Engine, run_id: int, info: dict) -> None:
    """Keep what the ranking used with the run (meta.run.summary: score_profiles, the weights of every profile)."""
    ledger.save_score_summary(engine, run_id, info)


def read_profiles(conn: sa.Connection) -> dict | None:
    """The weights of every profile of the run that last scored (None when unknown)."""
    return ledger.last_score_summary(conn, "score_profiles")
