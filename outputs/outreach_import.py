"""Reading a coordinator's edits back: ``plekzoeker outreach import FILE`` puts the ``outreach_status``
/ ``outreach_note`` columns of an edited list into ``result.outreach``, keyed by the stable
``candidate_key``; and the stored records (``outreach list``, ``outreach history``).

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
"""
from __future__ import annotations

import csv
import datetime as dt
import logging
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from plekzoeker.errors import OutreachError
from plekzoeker.outputs.outreach_lists import SQL, normalise_status
from plekzoeker.outputs.outreach_write import LIST_SHEET

log = logging.getLogger(__name__)

IMPORT_LOCK = 7_262_015  # pg_advisory_xact_lock key: one outreach import at a time
KNOWN_KEYS_SQL = SQL["known_keys"]
CURRENT_SQL = SQL["current"]
LOCK_SQL = SQL["lock"]
UPSERT_SQL = SQL["upsert"]
HISTORY_INSERT_SQL = SQL["history_insert"]
HISTORY_SQL = SQL["history"]
BASE_SQL = SQL["base"]
CONFLICTS_SQL = SQL["conflicts"]
OUTREACH_LIST_SQL = SQL["outreach_list"]
LABEL_SQL = SQL["labels"]


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
    if s.startswith("'") and s[1:2] in ("=", "+", "-", "@"):  # undo outreach_write._csv_safe
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
