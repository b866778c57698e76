"""What changed since the previous publish: new candidates, gone ones, and big rank moves.

The baseline is the previous publish itself, not the database: every publish writes
``ranks.json`` (candidate_key, rank, score, kind, label, municipality of every published
candidate), and the next publish reads it from ``out/latest/`` before swapping the symlink. So the
report compares exactly what a reader saw yesterday with what they see today, survives a database
restore, and needs no extra table. Ranks are the overall ranks of ``result.score``; a publish
limited to one municipality is compared only within the part both publishes cover.

Writes ``changes.json`` (complete) and ``changes.md`` (short, for people).
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

from .geojson import write_json_atomic

log = logging.getLogger(__name__)

RANKS_FILE = "ranks.json"
MD_ROWS = 100  # rows per section in changes.md; changes.json has all


def snapshot(rows: list[dict], municipality: str | None, published_at: str, run_id: int,
             kept_municipality: dict[str, str] | None = None) -> dict:
    """The ranks.json of this publish. ``rows``: dicts with candidate_key, rank, score, kind, label, municipality."""
    keys = ("candidate_key", "rank", "score", "kind", "label", "municipality")
    return {"published_at": published_at, "run_id": run_id, "municipality": municipality,
            "candidates": [{k: r.get(k) for k in keys} for r in rows],
            "kept_municipality": dict(sorted((kept_municipality or {}).items()))}


def read_previous(out_dir: str | Path) -> dict | None:
    """ranks.json of the publish ``out/latest`` points at, or None (first publish, or an older layout)."""
    p = Path(out_dir) / "latest" / RANKS_FILE
    try:
        prev = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("changes: cannot read the previous %s (%s); reporting without a baseline", p, exc)
        return None
    if not isinstance(prev, dict) or not isinstance(prev.get("candidates"), list):
        log.warning("changes: %s is not a plekzoeker ranks file; reporting without a baseline", p)
        return None
    return prev


def known_municipalities(prev: dict | None) -> dict[str, str]:
    """candidate_key -> municipality from the previous publish (for candidates that are gone now)."""
    if not prev:
        return {}
    out = dict(prev.get("kept_municipality") or {})
    out.update({c["candidate_key"]: c["municipality"] for c in prev["candidates"] if c.get("municipality")})
    return out


def compare(prev: dict | None, cur: dict, threshold: int, gone_info: dict[str, dict] | None = None) -> dict:
    """New, gone and moved (|rank change| > threshold) between two snapshots. Pure.

    ``gone_info``: candidate_key -> {"gone_since": date|None, "reason": str|None, "outreach_status": str|None}.
    """
    gone_info = gone_info or {}
    report = {"published_at": cur["published_at"], "run_id": cur["run_id"], "municipality": cur["municipality"],
              "baseline": None, "rank_move_threshold": threshold, "note": None, "new": [], "gone": [], "moved": []}
    cur_rows = {c["candidate_key"]: c for c in cur["candidates"]}
    if prev is None:
        report["note"] = "first publish: no previous publish to compare with, so every candidate is new"
        report["new"] = [_row(c) for c in cur["candidates"]]
        return report
    report["baseline"] = {"published_at": prev.get("published_at"), "run_id": prev.get("run_id"),
                          "municipality": prev.get("municipality")}
    prev_rows = {c["candidate_key"]: c for c in prev["candidates"]}
    p_gm, c_gm = prev.get("municipality"), cur["municipality"]
    if p_gm and c_gm and p_gm != c_gm:
        report["note"] = f"the previous publish covered {p_gm}, this one {c_gm}: nothing to compare"
        report["baseline"]["comparable"] = False
        return report
    scope = c_gm or p_gm
    if scope:
        prev_rows = {k: v for k, v in prev_rows.items() if v.get("municipality") == scope}
        cur_rows = {k: v for k, v in cur_rows.items() if v.get("municipality") == scope}
        if p_gm != c_gm:
            report["note"] = f"compared within {scope} only (the part both publishes cover)"
    report["baseline"]["comparable"] = True
    report["new"] = [_row(c) for k, c in cur_rows.items() if k not in prev_rows]
    for k, p in prev_rows.items():
        if k not in cur_rows:
            info = gone_info.get(k, {})
            report["gone"].append({**_row(p, prefix="last_"), "gone_since": _iso(info.get("gone_since")),
                                   "reason": info.get("reason") or ("no longer found" if info.get("gone_since")
                                                                    else "no longer ranked"),
                                   "outreach_status": info.get("outreach_status")})
    for k, c in cur_rows.items():
        p = prev_rows.get(k)
        if p is None or p.get("rank") is None or c.get("rank") is None:
            continue
        delta = int(p["rank"]) - int(c["rank"])  # positive = moved up
        if abs(delta) > threshold:
            report["moved"].append({**_row(c), "previous_rank": int(p["rank"]), "change": delta})
    report["new"].sort(key=lambda r: (r["rank"] is None, r["rank"] or 0))
    report["gone"].sort(key=lambda r: (r["last_rank"] is None, r["last_rank"] or 0))
    report["moved"].sort(key=lambda r: (-abs(r["change"]), r["rank"]))
    return report


def _iso(v):
    return v.isoformat() if hasattr(v, "isoformat") else v


def _row(c: dict, prefix: str = "") -> dict:
    return {"candidate_key": c["candidate_key"], f"{prefix}rank": c.get("rank"), f"{prefix}score": c.get("score"),
            "kind": c.get("kind"), "label": c.get("label"), "municipality": c.get("municipality")}


def _md_cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.3f}"
    return str(v).replace("|", "\\|").replace("\n", " ")


def _md_table(rows: list[dict], cols: list[tuple[str, str]]) -> list[str]:
    if not rows:
        return ["none", ""]
    out = ["| " + " | ".join(h for _, h in cols) + " |", "|" + "---|" * len(cols)]
    out += ["| " + " | ".join(_md_cell(r.get(k)) for k, _ in cols) + " |" for r in rows[:MD_ROWS]]
    if len(rows) > MD_ROWS:
        out.append(f"\n… and {len(rows) - MD_ROWS} more (see changes.json)")
    return out + [""]


def to_markdown(report: dict) -> str:
    base = report["baseline"]
    scope = f" in {report['municipality']}" if report["municipality"] else ""
    lines = [f"# Changes since the previous publish{scope}", "",
             f"Published {report['published_at']} (run {report['run_id']})"
             + (f", compared with the publish of {base['published_at']} (run {base['run_id']})." if base else "."),
             "Candidates to verify, never verdicts.", ""]
    if report["note"]:
        lines += [f"Note: {report['note']}.", ""]
    kind = ("kind", "kind")
    label = ("label", "address / parcel")
    lines += [f"## New ({len(report['new'])})", ""]
    lines += _md_table(report["new"], [("rank", "rank"), ("score", "score"), kind, label])
    lines += [f"## Gone ({len(report['gone'])})", ""]
    lines += _md_table(report["gone"], [("last_rank", "last rank"), kind, label, ("gone_since", "gone since"),
                                        ("reason", "why"), ("outreach_status", "outreach status")])
    lines += [f"## Rank moved by more than {report['rank_move_threshold']} ({len(report['moved'])})", ""]
    lines += _md_table(report["moved"], [("rank", "rank"), ("previous_rank", "was"), ("change", "change (+ = up)"),
                                         ("score", "score"), kind, label])
    return "\n".join(lines).rstrip() + "\n"


def write_changes(outdir: Path, report: dict) -> None:
    """changes.json and changes.md into ``outdir`` (each written to a temp file and renamed)."""
    write_json_atomic(outdir / "changes.json", report)
    tmp = outdir / ".changes.md.tmp"
    tmp.write_text(to_markdown(report), encoding="utf-8")
    tmp.replace(outdir / "changes.md")


def summary_counts(report: dict) -> dict:
    return {"new": len(report["new"]), "gone": len(report["gone"]), "moved": len(report["moved"]),
            "baseline": (report["baseline"] or {}).get("published_at")}
