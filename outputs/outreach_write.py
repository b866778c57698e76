"""The coordinators' list files: ``outreach_<GMxxxx>.xlsx`` (formatted, with a status drop-down and an
'about' sheet) and ``.csv`` per municipality.

Each file is written to a temporary file and renamed into place (never half a list under the real
name). Free text is protected against spreadsheet formulas (CSV injection: a leading ``=``, ``+``,
``-``, ``@`` gets a quote; in the workbook every text cell is a string, never a formula). A list
with owner names is readable by the publishing user only (:data:`PRIVATE_MODE`).
"""
from __future__ import annotations

import csv
import math
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from plekzoeker.outputs.geojson import PUBLIC_MODE
from plekzoeker.outputs.outreach_lists import LIST_COLUMNS, STATUSES, ListOptions, order_list
from plekzoeker.outputs.ranking_columns import OWNER_SHEET, owner_sheet

LIST_SHEET = "candidates"
FREE_TEXT = ("address_or_parcel", "what", "why", "owner_name", "outreach_note", "outreach_conflict")
PRIVATE_MODE = 0o600  # lists with owner names (personal data): readable by the publishing user only


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
               muted_statuses: Iterable[str] = (), about_extra: Iterable[str] = ()) -> None:
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
