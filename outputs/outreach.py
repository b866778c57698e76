"""Ranked lists for coordinators (XLSX + CSV per municipality) and the outreach status they keep.

A coordinator works down ``outreach_<GMxxxx>.xlsx`` (or the ``.csv``), calls owners and types a
status and a note into the ``outreach_status`` / ``outreach_note`` columns. ``plekzoeker outreach
import FILE`` reads those two columns back into ``result.outreach``, keyed by the stable
``candidate_key``; the next publish shows them again. So nothing a coordinator noted is lost:

- candidates marked with a status in ``publish.outreach_hide`` (default declined, unsuitable) sink
  to the bottom of the list (``publish.outreach_mode: sink``) or drop out (``drop``);
- a candidate that disappeared (the office is in use again) but has an outreach row stays in the
  list with its ``gone_since`` date.

Two coordinators editing the same candidate never overwrite each other unseen. Every outreach record
has a ``version`` (1 at the first status, +1 per change) and every exported row carries it in
``outreach_version`` (0: no record yet). An import applies a row only when it is based on the
stored version; a row based on an older version that says something else is a *conflict*: the
stored record stays current, the incoming status/note is kept in ``result.outreach_history``
(event ``conflict``, with who — ``--by`` or the file name — and when), reported in one line, and
shown in the next lists (``outreach_conflict``) and in ``plekzoeker outreach list`` until someone
imports a row based on the current version. Every applied change is a history row as well, so
``plekzoeker outreach history KEY`` shows the whole story of a candidate and no note is ever
destroyed. Imports take one advisory lock, so two imports at the same moment run one after the
other and the second sees the first one's version. A file without the ``outreach_version`` column
(hand-made, or from before versions) is taken to be based on the stored version: its rows
replace, and the replaced note stays in the history.

Owner names are personal data: they are read from ``core.owner`` only when the caller asks for
them (``with_owner_names=True``) and then only written into these lists, never into GeoJSON/HTML.
"""
from __future__ import annotations

import csv
import datetime as dt
import logging
import math
import os
import re
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from plekzoeker.db.models import OUTREACH_STATUSES
from plekzoeker.db.owners import owners
from plekzoeker.errors import ConfigError, OutreachError

from .facts_columns import COLUMNS as FACT_COLUMNS
from .facts_columns import add_fact_columns
from .geojson import BAG_VIEWER, PUBLIC_MODE
from .ranking_columns import LIST_COLUMNS as RANKING_LIST_COLUMNS
from .ranking_columns import LIST_SPLIT, OWNER_SHEET, RANKING_JOIN, list_columns, owner_groups, owner_sheet

log = logging.getLogger(__name__)

STATUSES: tuple[str, ...] = OUTREACH_STATUSES
HIDE_DEFAULT = ("declined", "unsuitable")
LIST_SHEET = "candidates"
FREE_TEXT = ("address_or_parcel", "what", "why", "owner_name", "outreach_note", "outreach_conflict")
IMPORT_LOCK = 7_262_015  # pg_advisory_xact_lock key: one outreach import at a time
PRIVATE_MODE = 0o600  # lists with owner names (personal data): readable by the publishing user only

# --- SQL (all of this module's SQL in one place) -------------------------------------------------
# Every ranked candidate, plus every candidate with an outreach row that is not ranked now (gone,
# or excluded by scoring): a coordinator's notes never silently disappear from the list.
LIST_SQL = """
WITH k AS (
    SELECT candidate_key FROM result.score WHERE rank IS NOT NULL
    UNION
    SELECT candidate_key FROM result.outreach
    UNION
    SELECT candidate_key FROM result.ranking WHERE vetoes <> '[]'::jsonb   -- vetoed: listed with the reasons
)
SELECT k.candidate_key, coalesce(c.kind, h.kind) AS kind, coalesce(c.label, h.label) AS label, c.municipality,
       c.area_m2, c.confidence, c.evidence, c.details, s.score, s.rank, s.rank_municipality, s.subscores, s.criteria,
       s.weights, s.excluded_reason, h.first_seen, h.gone_since, o.status AS outreach_status, o.note AS outreach_note,
       coalesce(o.version, 0) AS outreach_version, x.conflicts AS outreach_conflict,
       (c.candidate_key IS NOT NULL) AS in_candidates, to_jsonb(r) AS ranking
FROM k
{ranking_join}
LEFT JOIN result.candidate c USING (candidate_key)
LEFT JOIN result.score s USING (candidate_key)
LEFT JOIN result.candidate_history h USING (candidate_key)
LEFT JOIN result.outreach o USING (candidate_key)
LEFT JOIN LATERAL (""" + "{open_conflicts}" + """) x ON true
"""
# the conflicting edits that lost against the current version (none once a newer version is stored)
OPEN_CONFLICTS_SQL = """
SELECT string_agg(coalesce(y.changed_by, 'unknown') || ' on ' || to_char(y.changed_at, 'YYYY-MM-DD HH24:MI') || ': '
                  || y.status || coalesce(' — ' || y.note, ''), ' | ' ORDER BY y.history_id) AS conflicts
FROM result.outreach_history y
WHERE y.candidate_key = k.candidate_key AND y.event = 'conflict' AND y.version = o.version
"""
LIST_SQL = LIST_SQL.replace("{open_conflicts}", OPEN_CONFLICTS_SQL).replace("{ranking_join}", RANKING_JOIN)

OWNER_COUNT_SQL = "SELECT count(*) FROM core.owner"

KNOWN_KEYS_SQL = """
SELECT candidate_key FROM result.candidate_history WHERE candidate_key = ANY(CAST(:keys AS text[]))
UNION SELECT candidate_key FROM result.candidate WHERE candidate_key = ANY(CAST(:keys AS text[]))
UNION SELECT candidate_key FROM result.outreach WHERE candidate_key = ANY(CAST(:keys AS text[]))
"""
CURRENT_SQL = """
SELECT candidate_key, status, note, version, updated_by, updated_at
FROM result.outreach WHERE candidate_key = ANY(CAST(:keys AS text[])) FOR UPDATE
"""
LOCK_SQL = "SELECT pg_advisory_xact_lock(:k)"
UPSERT_SQL = """
INSERT INTO result.outreach AS o (candidate_key, status, note, updated_at, version, updated_by)
VALUES (:candidate_key, :status, :note, now(), :version, :by)
ON CONFLICT (candidate_key) DO UPDATE SET status = EXCLUDED.status, note = EXCLUDED.note, updated_at = now(),
                                          version = EXCLUDED.version, updated_by = EXCLUDED.updated_by
"""
HISTORY_INSERT_SQL = """
INSERT INTO result.outreach_history (candidate_key, event, version, based_on, status, note, changed_by, source)
VALUES (:candidate_key, :event, :version, :based_on, :status, :note, :by, :source)
"""
HISTORY_SQL = """
SELECT history_id, event, version, based_on, status, note, changed_by, changed_at, source
FROM result.outreach_history WHERE candidate_key = :k ORDER BY history_id
"""
BASE_SQL = """
SELECT candidate_key, version, status, note FROM result.outreach_history
WHERE event = 'change' AND candidate_key = ANY(CAST(:keys AS text[]))
"""
CONFLICTS_SQL = """
SELECT y.candidate_key, y.status, y.note, y.changed_by, y.changed_at, y.based_on
FROM result.outreach_history y JOIN result.outreach o USING (candidate_key)
WHERE y.event = 'conflict' AND y.version = o.version AND y.candidate_key = ANY(CAST(:keys AS text[]))
ORDER BY y.history_id
"""
OUTREACH_LIST_SQL = """
SELECT o.candidate_key, o.status, o.note, o.updated_at, o.version, o.updated_by, coalesce(c.kind, h.kind) AS kind,
       coalesce(c.label, h.label) AS label, s.rank, h.gone_since
FROM result.outreach o
LEFT JOIN result.candidate c USING (candidate_key)
LEFT JOIN result.score s USING (candidate_key)
LEFT JOIN result.candidate_history h USING (candidate_key)
WHERE CAST(:statuses AS text[]) IS NULL OR o.status = ANY(CAST(:statuses AS text[]))
ORDER BY s.rank NULLS LAST, o.candidate_key
"""


# --- configuration -------------------------------------------------------------------------------
@dataclass(frozen=True)
class ListOptions:
    hide: tuple[str, ...] = HIDE_DEFAULT
    mode: str = "sink"  # sink | drop


def list_options(cfg: dict) -> ListOptions:
    """``publish.outreach_hide`` / ``publish.outreach_mode`` from the config, validated."""
    pub = cfg.get("publish") or {}
    hide_raw = pub.get("outreach_hide", list(HIDE_DEFAULT))
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
    mode = str(pub.get("outreach_mode", "sink")).strip().lower()
    if mode not in ("sink", "drop"):
        raise ConfigError(f"config publish.outreach_mode: {mode!r} must be sink or drop")
    return ListOptions(hide=tuple(hide), mode=mode)


def normalise_status(value: object) -> str:
    """'In Talks', 'in_talks', ' contacted ' -> the canonical status; ValueError naming the choices."""
    text = re.sub(r"[\s_\-]+", " ", str(value if value is not None else "")).strip().lower()
    if text in STATUSES:
        return text
    raise ValueError(f"status {value!r} is not one of {', '.join(STATUSES)}")


# --- words ---------------------------------------------------------------------------------------
CATEGORY_WORDS = {"stop": "bus/tram stop", "train_station": "train station", "supermarket": "supermarket", "gp": "GP",
                  "pharmacy": "pharmacy", "primary_school": "primary school", "social_services": "social services",
                  "park": "park"}
USE_WORDS = {"kantoorfunctie": "office", "winkelfunctie": "shop", "bijeenkomstfunctie": "meeting venue",
             "onderwijsfunctie": "school", "logiesfunctie": "lodging", "gezondheidszorgfunctie": "healthcare",
             "industriefunctie": "industrial", "sportfunctie": "sports", "celfunctie": "detention",
             "woonfunctie": "residential", "overige gebruiksfunctie": "other use"}


def _num(v) -> float | None:
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def evidence_phrase(item: dict) -> str:
    """One vacancy evidence item in words, e.g. 'vacancy register since 2024-01-01'."""
    signal, value = item.get("signal", ""), str(item.get("value", ""))
    since = value.split(" since ", 1)[1] if " since " in value else None
    if signal == "vacancy_register":
        return f"vacancy register since {since}" if since else "in the vacancy register"
    if signal == "bag_status_buiten_gebruik":
        return "BAG: unit out of use"
    if signal == "bag_pand_buiten_gebruik":
        return "BAG: building out of use"
    if signal == "bag_long_renovation":
        return f"BAG: under renovation since {since}" if since else "BAG: long renovation"
    if signal == "no_establishment":
        return "no active business registered"
    if signal == "low_energy":
        return f"low energy use ({value.replace('kWh/m2', 'kWh/m²')})"
    if signal == "listed_long":
        return f"for rent/sale since {since}" if since else "listed for rent/sale a long time"
    if signal == "offered_by_owner":
        return value or "offered by owner"
    if signal == "osm_vacant_tag":
        return "OSM: tagged vacant"
    if signal == "active_establishment":
        return "active business registered"
    if signal == "normal_energy":
        return f"normal energy use ({value.replace('kWh/m2', 'kWh/m²')})"
    return f"{signal.replace('_', ' ')}: {value}".strip(": ")


def _criterion_phrase(name: str, kind: str, criteria: dict, evidence: list[dict]) -> str:
    if name == "vacancy_confidence":
        pos = [e for e in evidence or [] if float(e.get("weight", 0) or 0) > 0]
        if pos:
            return evidence_phrase(max(pos, key=lambda e: (float(e["weight"]), str(e.get("value")))))
        return "vacancy signals"
    if name == "area":
        area = _num(criteria.get("area_m2"))
        if area is None:
            return "size"
        return f"{area:.0f} m² vacant floor area" if kind == "vacant_building" else f"{area:.0f} m² usable"
    if name == "noise":
        db = _num(criteria.get("noise_lden_db"))
        return f"quiet (Lden {db:.0f} dB)" if db is not None else "quiet"
    if name.startswith("transit_") and (minutes := _num(criteria.get(f"{name}_min"))) is not None:
        return f"{CATEGORY_WORDS.get(name[8:], name[8:].replace('_', ' '))} {minutes:.0f} min by public transport"
    dist = _num(criteria.get(f"dist_{name}_m"))
    words = CATEGORY_WORDS.get(name, name.replace("_", " "))
    return f"{words} {round(dist, -1):.0f} m" if dist is not None else words


def why(kind: str, criteria: dict | None, subscores: dict | None, weights: dict | None,
        evidence: list[dict] | None, n: int = 3) -> str:
    """The ``n`` criteria that add most to the score (weight × sub-score), in words, ';'-separated.

    Ties keep a fixed order: vacancy evidence, size, then the access categories as configured.
    """
    criteria, subscores, weights = criteria or {}, subscores or {}, weights or {}
    order = ["vacancy_confidence", "area", *[k for k in subscores if k not in ("vacancy_confidence", "area", "noise")],
             "noise"]
    contrib = []
    for i, name in enumerate(order):
        sub, w = _num(subscores.get(name)), _num(weights.get(name))
        if sub is None or w is None or sub <= 0 or w <= 0:
            continue
        contrib.append((-(w * sub), i, name))
    contrib.sort()
    return "; ".join(_criterion_phrase(name, kind, criteria, evidence or []) for _, _, name in contrib[:n])


def what_it_is(kind: str | None, area_m2: float | None, details: dict | None) -> str:
    """'office building: 3 of 8 units possibly vacant (900 of 2950 m²)' or 'undeveloped plot: ...'."""
    d = details or {}
    if kind == "vacant_building":
        uses = [USE_WORDS.get(u, u) for u in d.get("gebruiksdoelen") or []]
        what = f"{'/'.join(uses) or 'non-residential'} building"
        if d.get("units_total"):
            what += f": {d.get('units_vacant', 0)} of {d['units_total']} units possibly vacant"
            if _num(d.get("vacant_area_m2")) is not None and _num(d.get("office_area_m2")):
                what += f" ({float(d['vacant_area_m2']):.0f} of {float(d['office_area_m2']):.0f} m²)"
        return what
    if kind == "undeveloped_plot":
        n = len(d.get("perceel_ids") or []) or 1
        parcel = _num(d.get("parcel_area_m2"))
        area = _num(area_m2)
        what = "undeveloped plot"
        if area is not None:
            what += f": {area:.0f} m² usable"
            if parcel:
                what += f" of {'a ' if n == 1 else f'{n} adjacent parcels, '}{parcel:.0f} m²{' parcel' if n == 1 else ''}"
        return what
    return (kind or "candidate").replace("_", " ")


# --- the list ------------------------------------------------------------------------------------
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
        "area_m2": [None if _num(a) is None else round(float(a)) for a in raw["area_m2"]],
        "score": [None if _num(s) is None else round(float(s), 3) for s in raw["score"]],
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


# --- writing -------------------------------------------------------------------------------------
ABOUT = [
    "plekzoeker: candidates to verify, never verdicts. No open register says a building is empty.",
    ("Work down the 'candidates' sheet; type a status into outreach_status (new, contacted, in talks, declined, "
     "suitable, unsuitable) and anything you want to remember into outreach_note."),
    ("Then run: plekzoeker outreach import <this file> --by <your name>. Only candidate_key, outreach_status, "
     "outreach_note and outreach_version are read; the next publish shows your statuses again."),
    ("outreach_version: the version of the stored status this row was exported with; leave it as it is. If a "
     "colleague imported a change for the same candidate after this list was made, your edit is not lost: it is "
     "kept as a conflicting note, shown in outreach_conflict in the next list (and by plekzoeker outreach list)."),
    ("Candidates marked declined/unsuitable sink to the bottom (or drop out, see publish.outreach_mode). A candidate "
     "that is no longer found but has a status stays in the list with its gone_since date."),
    "",
    "rank: rank within the municipality (1 = best); rank_overall: over all municipalities in this run.",
    "why: the criteria that add most to the score, in words (walking distances over the street network).",
    ("owner_kind: from the owner export, when one was loaded. Owner names appear only when the list was published "
     "with --with-owner-names: they are personal data (AVG/GDPR), do not share this file further."),
]


def _cell(v):
    if v is None:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, pd.Timestamp):
        return v.date()
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):  # numpy scalar
        return v.item()
    return v


def _csv_safe(v):
    """Neutralise spreadsheet formulas in free text (CSV injection): '=SUM(..)' -> "'=SUM(..)"."""
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + v
    return v


def _replace_atomic(write, path: Path, mode: int = PUBLIC_MODE) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """UTF-8 with BOM (so Excel shows ë and ²), comma-separated, free text protected against formulas."""
    cols = [c for c in LIST_COLUMNS if c in df.columns]

    def write(tmp: Path) -> None:
        with tmp.open("w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(cols)
            for rec in df[cols].itertuples(index=False):
                w.writerow(["" if _cell(v) is None else _csv_safe(_cell(v)) if c in FREE_TEXT else _cell(v)
                            for c, v in zip(cols, rec)])
    _replace_atomic(write, path, PRIVATE_MODE if "owner_name" in cols else PUBLIC_MODE)


def write_xlsx(df: pd.DataFrame, path: Path, title: str, published_at: str,
               muted_statuses: Iterable[str] = HIDE_DEFAULT, about_extra: Iterable[str] = ()) -> None:
    """A formatted workbook: sheet 'candidates' (filter, frozen header, status drop-down) and 'about'.

    Rows of gone candidates and of ``muted_statuses`` are set in grey italics."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    cols = [c for c in LIST_COLUMNS if c in df.columns]
    wb = Workbook()
    ws = wb.active
    ws.title = LIST_SHEET
    ws.append(cols)
    for c in ws[1]:
        c.font = Font(bold=True, color="FFFFFF")
        c.fill = PatternFill("solid", fgColor="2F5597")
    grey = Font(color="808080", italic=True)
    muted = set(muted_statuses)
    for i, rec in enumerate(df[cols].to_dict("records"), start=2):
        for j, col in enumerate(cols, start=1):
            v = _cell(rec[col])
            cell = ws.cell(row=i, column=j)
            cell.value = v
            if isinstance(v, str):
                cell.data_type = "s"  # never a formula, whatever the text starts with
            if col == "bag_viewer" and isinstance(v, str) and v.startswith("https://"):
                cell.hyperlink = v
                cell.style = "Hyperlink"
            if col in ("what", "why", "outreach_note", "outreach_conflict", "flags", "vetoes"):
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        if _cell(rec.get("gone_since")) is not None or rec.get("outreach_status") in muted:
            for j in range(1, len(cols) + 1):
                if cols[j - 1] not in ("outreach_status", "outreach_note"):
                    ws.cell(row=i, column=j).font = grey
    widths = {"rank": 6, "candidate_key": 26, "address_or_parcel": 34, "what": 40, "area_m2": 9, "score": 7,
              "why": 50, "owner_kind": 18, "owner_name": 28, "outreach_status": 15, "outreach_note": 40,
              "outreach_conflict": 40, "outreach_version": 9,
              "first_seen": 11, "gone_since": 11, "municipality": 12, "rank_overall": 8, "kind": 16,
              "confidence": 10, "bag_viewer": 30, "rank_range": 24, "capacity": 22, "flags": 45, "vetoes": 30}
    for j, col in enumerate(cols, start=1):
        letter = get_column_letter(j)
        ws.column_dimensions[letter].width = widths.get(col, 12)
        if col == "score":
            for row in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                row[0].number_format = "0.000"
        if col in ("first_seen", "gone_since"):
            for row in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                row[0].number_format = "yyyy-mm-dd"
    ws.freeze_panes = "C2"
    last = max(ws.max_row, 2)
    ws.auto_filter.ref = f"A1:{get_column_letter(len(cols))}{last}"
    status_col = get_column_letter(cols.index("outreach_status") + 1)
    dv = DataValidation(type="list", formula1='"' + ",".join(STATUSES) + '"', allow_blank=True,
                        showErrorMessage=True, errorTitle="outreach_status",
                        error=f"Use one of: {', '.join(STATUSES)}")
    dv.add(f"{status_col}2:{status_col}{max(last, 1000)}")
    ws.add_data_validation(dv)
    head, rows = owner_sheet(df)
    if rows:
        by_owner = wb.create_sheet(OWNER_SHEET)
        for r in [head, *rows]:
            by_owner.append([_cell(v) for v in r])
    about = wb.create_sheet("about")
    about.append([title])
    about["A1"].font = Font(bold=True, size=13)
    about.append([f"published_at: {published_at}"])
    for line in ABOUT:
        about.append([line])
    extra = list(about_extra)
    if extra:
        about.append([])
        about.append(["Data coverage of this run:"])
        for line in extra:
            about.append([line])
    about.column_dimensions["A"].width = 140
    _replace_atomic(lambda tmp: wb.save(tmp), path, PRIVATE_MODE if "owner_name" in cols else PUBLIC_MODE)


def write_lists(df: pd.DataFrame, outdir: Path, opts: ListOptions, published_at: str,
                about_extra: Iterable[str] = ()) -> dict[str, int]:
    """``outreach_<GMxxxx>.xlsx`` and ``.csv`` per municipality (``outreach_unknown`` for rows without
    one); returns rows per file. ``about_extra``: lines for the 'about' sheet (the data coverage)."""
    about_extra = list(about_extra)
    counts: dict[str, int] = {}
    if df.empty:
        return counts
    groups = df["municipality"].fillna("unknown")
    for gm in sorted(groups.unique()):
        part = order_list(df[groups == gm], opts)
        stem = f"outreach_{gm}"
        write_csv(part, outdir / f"{stem}.csv")
        write_xlsx(part, outdir / f"{stem}.xlsx", f"plekzoeker — candidates to verify in {gm}", published_at, opts.hide,
                   about_extra)
        counts[f"{stem}.xlsx"] = counts[f"{stem}.csv"] = len(part)
    return counts


# --- reading back --------------------------------------------------------------------------------
@dataclass
class EditRow:
    row: int                   # spreadsheet row number (header = 1)
    candidate_key: str
    status: str | None         # raw text, None when the cell is empty
    note: str | None
    version: str | None = None  # raw outreach_version text; None when the cell is empty
    versioned: bool = False     # the file has an outreach_version column


def _text(v) -> str | None:
    if v is None:
        return None
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    s = str(v).strip()
    if s.startswith("'") and s[1:2] in ("=", "+", "-", "@"):  # undo _csv_safe
        s = s[1:]
    return s or None


EDIT_COLUMNS = ("candidate_key", "outreach_status", "outreach_note", "outreach_version")


def _rows_from_table(path: Path, rows: Iterable[list]) -> list[EditRow]:
    header, out = None, []
    for n, r in enumerate(rows, start=1):
        cells = [_text(v) for v in r]
        if header is None:
            low = [(c or "").lower() for c in cells]
            if "candidate_key" in low:
                header = {name: low.index(name) for name in EDIT_COLUMNS if name in low}
                if "outreach_status" not in header:
                    raise OutreachError(f"{path}: no outreach_status column next to candidate_key")
            elif n >= 10:
                break
            continue
        if not any(cells):
            continue
        key, status, note, version = (cells[i] if i is not None and i < len(cells) else None
                                      for i in (header.get(c) for c in EDIT_COLUMNS))
        out.append(EditRow(n, key or "", status, note, version, "outreach_version" in header))
    if header is None:
        raise OutreachError(f"{path}: no header row with a candidate_key column (is this a plekzoeker outreach list?)")
    return out


def read_edits(path: str | Path) -> list[EditRow]:
    """The rows of an outreach list a coordinator edited (.xlsx, or .csv with , ; or tab)."""
    p = Path(path)
    if not p.is_file():
        raise OutreachError(f"{p}: file not found")
    suffix = p.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook
        from openpyxl.utils.exceptions import InvalidFileException

        try:
            wb = load_workbook(p, read_only=True, data_only=True)
        except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
            raise OutreachError(f"{p}: not a readable .xlsx workbook ({type(exc).__name__})") from None
        try:
            ws = wb[LIST_SHEET] if LIST_SHEET in wb.sheetnames else wb.worksheets[0]
            return _rows_from_table(p, ([c for c in r] for r in ws.iter_rows(values_only=True)))
        finally:
            wb.close()
    if suffix in (".csv", ".txt"):
        try:
            text = p.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = p.read_text(encoding="cp1252")  # Excel on Windows saves 'CSV' in ANSI
            except UnicodeDecodeError:
                raise OutreachError(f"{p}: not UTF-8 (or Windows-1252) text") from None
        first = text.split("\n", 1)[0]
        delim = max([",", ";", "\t"], key=first.count)
        return _rows_from_table(p, csv.reader(text.splitlines(), delimiter=delim))
    raise OutreachError(f"{p}: expected an .xlsx or .csv outreach list, not {suffix or 'a file without extension'}")


@dataclass
class Conflict:
    candidate_key: str
    label: str | None
    based_on: int               # version the edited row was exported with
    stored_version: int         # version in the database, which stays current
    stored: tuple[str, str | None, str | None, dt.datetime | None]  # status, note, by, at
    incoming: tuple[str, str | None]                                 # status, note (kept in the history)

    def line(self, by: str) -> str:
        st, note, who, at = self.stored
        when = f" at {at:%Y-%m-%d %H:%M}" if at else ""
        return (f"conflict {self.candidate_key}{f' ({self.label})' if self.label else ''}: the row is based on version "
                f"{self.based_on}, the database has version {self.stored_version} by {who or 'unknown'}{when} "
                f"({_words(st, note)}), which stays current; {by}'s {_words(*self.incoming)} is kept as a "
                "conflicting note")


def _words(status: str, note: str | None) -> str:
    return f"{status!r}" + (f" with note {note!r}" if note else " without a note")


@dataclass
class ImportSummary:
    path: str
    by: str = ""
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str, str]] = field(default_factory=list)  # (row, candidate_key, message)
    conflicts: list[Conflict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"path": self.path, "by": self.by, "rows": self.rows, "inserted": self.inserted, "updated": self.updated,
                "unchanged": self.unchanged, "conflicts": [c.candidate_key for c in self.conflicts],
                "rejected": [{"row": r, "candidate_key": k, "message": m} for r, k, m in self.rejected]}

    def lines(self) -> list[str]:
        """The summary line, one line per conflict, then one per rejected row."""
        out = [(f"{self.path}: {self.rows} row(s) read (by {self.by}); {self.inserted} new status(es), "
                f"{self.updated} updated, {self.unchanged} unchanged, {len(self.conflicts)} conflict(s), "
                f"{len(self.rejected)} rejected")]
        out += [f"  {c.line(self.by)}" for c in self.conflicts]
        out += [f"  row {r} ({k or 'no candidate_key'}): {m}" for r, k, m in self.rejected]
        return out


KEY_RE = re.compile(r"^(pand|perceel):\S.*$")
LABEL_SQL = """
SELECT k, coalesce(c.label, h.label) FROM unnest(CAST(:keys AS text[])) AS k
LEFT JOIN result.candidate c ON c.candidate_key = k LEFT JOIN result.candidate_history h ON h.candidate_key = k
"""


def _version(e: EditRow) -> int | None | str:
    """The row's base version: an int, None (file without the column: based on the stored one), or an error."""
    if not e.versioned:
        return None
    if e.version is None:
        return 0
    try:
        v = int(e.version)
    except ValueError:
        return f"outreach_version {e.version!r} is not a whole number (leave the column as exported)"
    return v if v >= 0 else f"outreach_version {v} is negative"


def import_outreach(engine: sa.Engine, path: str | Path, by: str | None = None) -> ImportSummary:
    """Read outreach_status / outreach_note (and outreach_version) from an edited list into
    result.outreach in one transaction. Bad rows (unknown status or key) are rejected with a message;
    the rest is imported. ``by``: who edited the file (default: the file name without extension).

    A row whose status cell is empty changes nothing unless it has a note (then the status stays as it
    was, or 'new'). Rows equal to what is stored are counted as unchanged and keep their updated_at.
    A changed row based on an older version than the stored one is a conflict (see the module doc):
    the stored record stays, the row's status/note goes into the history as a conflicting note.
    """
    edits = read_edits(path)
    by = (by or "").strip() or Path(path).stem
    summary = ImportSummary(path=str(path), by=by, rows=len(edits))
    wanted: dict[str, tuple[int, str | None, str | None, int | None]] = {}
    for e in edits:
        if not e.candidate_key:
            summary.rejected.append((e.row, "", "no candidate_key"))
            continue
        if not KEY_RE.match(e.candidate_key):
            summary.rejected.append((e.row, e.candidate_key, "candidate_key must look like pand:<id> or perceel:<aanduiding>"))
            continue
        status = None
        if e.status is not None:
            try:
                status = normalise_status(e.status)
            except ValueError as exc:
                summary.rejected.append((e.row, e.candidate_key, str(exc)))
                continue
        base = _version(e)
        if isinstance(base, str):
            summary.rejected.append((e.row, e.candidate_key, base))
            continue
        if e.candidate_key in wanted:
            first = wanted[e.candidate_key]
            if (first[1], first[2]) != (status, e.note):
                summary.rejected.append((e.row, e.candidate_key, f"duplicate candidate_key with other values (first at row {first[0]})"))
            else:
                summary.unchanged += 1
            continue
        wanted[e.candidate_key] = (e.row, status, e.note, base)
    with engine.begin() as conn:
        conn.execute(sa.text(LOCK_SQL), {"k": IMPORT_LOCK})
        keys = list(wanted)
        known = {r[0] for r in conn.execute(sa.text(KNOWN_KEYS_SQL), {"keys": keys})} if keys else set()
        current = {r.candidate_key: r for r in conn.execute(sa.text(CURRENT_SQL), {"keys": keys})} if keys else {}
        # what each stored version said: a row equal to the version it was exported with is untouched
        versions = {(r.candidate_key, r.version): (r.status, r.note)
                    for r in conn.execute(sa.text(BASE_SQL), {"keys": list(current)})} if current else {}
        changes, history, conflicted = [], [], []
        for key, (row, status, note, base) in wanted.items():
            if key not in known:
                summary.rejected.append((row, key, "unknown candidate_key (not a candidate of any run in this database)"))
                continue
            old = current.get(key)
            stored_version = old.version if old else 0
            if status is None and note is None:
                summary.unchanged += 1
                continue
            new_status = status or (old.status if old else "new")
            if old is None and new_status == "new" and note is None:
                summary.unchanged += 1  # an untouched row of the list: nothing to remember
                continue
            if old is not None and (old.status, old.note) == (new_status, note):
                summary.unchanged += 1
                continue
            base = stored_version if base is None else base
            if base > stored_version:
                summary.rejected.append((row, key, f"outreach_version {base} is newer than the database's version "
                                                   f"{stored_version} (a list from another database?)"))
                continue
            if base < stored_version:
                was = versions.get((key, base), ("new", None))
                if (status or was[0], note) == was:
                    summary.unchanged += 1  # not edited since the export: the newer stored version stays
                    continue
                summary.conflicts.append(Conflict(key, None, base, stored_version,
                                                  (old.status, old.note, old.updated_by, old.updated_at),
                                                  (new_status, note)))
                conflicted.append(key)
                history.append({"candidate_key": key, "event": "conflict", "version": stored_version, "based_on": base,
                                "status": new_status, "note": note, "by": by, "source": str(path)})
                continue
            changes.append({"candidate_key": key, "status": new_status, "note": note, "version": stored_version + 1,
                            "by": by})
            history.append({"candidate_key": key, "event": "change", "version": stored_version + 1, "based_on": base,
                            "status": new_status, "note": note, "by": by, "source": str(path)})
            if old is None:
                summary.inserted += 1
            else:
                summary.updated += 1
        if changes:
            conn.execute(sa.text(UPSERT_SQL), changes)
        if history:
            conn.execute(sa.text(HISTORY_INSERT_SQL), history)
        if conflicted:
            labels = dict(conn.execute(sa.text(LABEL_SQL), {"keys": conflicted}).all())
            for c in summary.conflicts:
                c.label = labels.get(c.candidate_key)
    summary.rejected.sort()
    log.info("outreach import %s by %s: %d inserted, %d updated, %d unchanged, %d conflict(s), %d rejected", path, by,
             summary.inserted, summary.updated, summary.unchanged, len(summary.conflicts), len(summary.rejected))
    return summary


def list_outreach(engine: sa.Engine, statuses: list[str] | None = None) -> list[dict]:
    """Stored outreach rows (optionally only some statuses), ranked candidates first, each with its
    open ``conflicts`` (conflicting notes that lost against the current version)."""
    norm = [normalise_status(s) for s in statuses] if statuses else None
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(sa.text(OUTREACH_LIST_SQL), {"statuses": norm}).mappings().all()]
        conflicts: dict[str, list[dict]] = {}
        if rows:
            for c in conn.execute(sa.text(CONFLICTS_SQL), {"keys": [r["candidate_key"] for r in rows]}).mappings():
                conflicts.setdefault(c["candidate_key"], []).append(dict(c))
    for r in rows:
        r["conflicts"] = conflicts.get(r["candidate_key"], [])
    return rows


def outreach_history(engine: sa.Engine, key: str) -> list[dict]:
    """Every change and conflicting edit of one candidate's outreach record, oldest first."""
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.text(HISTORY_SQL), {"k": key}).mappings().all()]
