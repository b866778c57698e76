"""Optional signals from CSV: vacancy registers, establishments, energy use, listings, owners.

Every CSV is UTF-8 with a header row; rows are keyed by ``verblijfsobject_id`` (16 digits) or by
address (``postcode`` 1234AB + ``huisnummer`` [+ ``huisletter``, ``toevoeging``]). Schemas are in
``SCHEMAS`` and in the README. A row whose key is malformed is rejected into ``meta.reject`` with
the reason and the load goes on; a file with the wrong columns or encoding is refused whole.
"""
from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from plekzoeker.db.guards import LoadPolicy
from plekzoeker.db.load import LoadStats, TableSpec, load_input
from plekzoeker.db.owners import OWNER_KINDS
from plekzoeker.errors import SourceError

ADDRESS = ["verblijfsobject_id", "postcode", "huisnummer", "huisletter", "toevoeging"]
SCHEMAS: dict[str, dict] = {  # required columns besides the key; value columns kept in core.signal.value
    "vacancy": {"since": "vacant_since", "required": ["vacant_since"], "value": ["source"]},
    "establishments": {"since": None, "required": ["active"], "value": ["kvk_nummer", "active"]},
    "energy": {"since": None, "required": ["kwh_per_m2"], "value": ["kwh_per_m2"]},
    "listings": {"since": "listed_since", "required": ["listed_since"], "value": []},
}

KEY_CHECK = (
    "NOT (coalesce(verblijfsobject_id ~ '^[0-9]{16}$', false) OR "
    "(coalesce(postcode ~ '^[0-9]{4}[A-Z]{2}$', false) AND huisnummer IS NOT NULL))",
    "neither a 16-digit verblijfsobject_id nor postcode (1234AB) + huisnummer",
)
# Plausibility (plekzoeker/db/guards.py): nobody became vacant or was listed tomorrow (one day of slack for
# time zones). A verblijfsobject_id starts with its municipality code; with a municipality as the area, an id
# of another municipality can never match a unit (BAG is read with the same prefix filter), so it is rejected.
FUTURE_SINCE = ("since > current_date + 1", "date (vacant_since / listed_since) in the future")
SIGNAL = TableSpec(
    table="signal",
    columns=("kind", "verblijfsobject_id", "postcode", "huisnummer", "huisletter", "toevoeging", "since", "value",
             "source_file", "input_id"),
    geometry=None, checks=(KEY_CHECK,), partition="kind",
    plausible=(FUTURE_SINCE,), municipality="left(verblijfsobject_id, 4)",
)
OWNER = TableSpec(
    table="owner",
    columns=("kadastrale_aanduiding", "verblijfsobject_id", "pand_id", "owner_name", "owner_kind", "input_id"),
    geometry=None,
    checks=(("kadastrale_aanduiding IS NULL AND verblijfsobject_id IS NULL AND pand_id IS NULL",
             "no kadastrale_aanduiding, verblijfsobject_id or pand_id"),
            (f"owner_kind NOT IN ({', '.join(repr(k) for k in OWNER_KINDS)})",
             f"owner_kind must be one of {', '.join(OWNER_KINDS)}")),
    private=("owner_name",),
    municipality="CASE WHEN coalesce(verblijfsobject_id, pand_id) ~ '^[0-9]{16}$' "
                 "THEN left(coalesce(verblijfsobject_id, pand_id), 4) END",
)


def _header(path: Path) -> list[str]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            first = fh.readline()
            if not first.strip():
                raise SourceError(path, "empty file (expected a CSV header row)")
            return [c.strip().lower() for c in next(csv.reader([first]))]
    except UnicodeDecodeError:
        raise SourceError(path, "not UTF-8 text; save the CSV as UTF-8") from None


def read_csv_chunks(path: Path, required: list[str], chunk_size: int = 100_000) -> Iterator[pd.DataFrame]:
    """Stream a CSV in chunks as text columns; refuse wrong columns or encoding with a clear error."""
    header = _header(path)
    missing = [c for c in required if c not in header]
    if missing:
        raise SourceError(path, f"missing column(s) {', '.join(missing)}; found {', '.join(header) or 'none'}")
    try:
        reader = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig",
                             chunksize=chunk_size, on_bad_lines="error")
        for chunk in reader:
            chunk.columns = [c.strip().lower() for c in chunk.columns]
            yield chunk
    except UnicodeDecodeError:
        raise SourceError(path, "not UTF-8 text; save the CSV as UTF-8") from None
    except (pd.errors.ParserError, csv.Error) as exc:
        raise SourceError(path, f"not a valid CSV: {str(exc).strip().splitlines()[0]}") from None


def _norm_address(df: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(index=df.index)
    for c in ADDRESS:
        out[c] = df[c].str.strip() if c in df.columns else None
    out["postcode"] = out["postcode"].str.replace(" ", "", regex=False).str.upper()
    out["huisnummer"] = pd.to_numeric(out["huisnummer"], errors="coerce").astype("Int64")
    for c in ("huisletter", "toevoeging"):
        out[c] = out[c].where(out[c].notna() & (out[c] != ""), None)
    return out


def signal_chunks(kind: str, path: Path) -> Iterator[pd.DataFrame]:
    schema = SCHEMAS[kind]
    for chunk in read_csv_chunks(path, schema["required"]):
        if "verblijfsobject_id" not in chunk.columns and not {"postcode", "huisnummer"} <= set(chunk.columns):
            raise SourceError(path, "needs a verblijfsobject_id column or postcode + huisnummer columns")
        out = _norm_address(chunk)
        out["kind"] = kind
        out["since"] = (pd.to_datetime(chunk[schema["since"]], errors="coerce").dt.date if schema["since"] else None)
        values = chunk[[c for c in schema["value"] if c in chunk.columns]]
        out["value"] = [json.dumps({k: v for k, v in rec.items() if pd.notna(v)}) for rec in values.to_dict("records")]
        out["source_file"] = path.name
        yield out


def owner_chunks(path: Path) -> Iterator[pd.DataFrame]:
    for chunk in read_csv_chunks(path, ["owner_name", "owner_kind"]):
        out = pd.DataFrame(index=chunk.index)
        for c in ("kadastrale_aanduiding", "verblijfsobject_id", "pand_id", "owner_name"):
            out[c] = chunk[c].str.strip() if c in chunk.columns else None
        out["owner_kind"] = chunk["owner_kind"].str.strip().str.lower()
        yield out


def load_signal(engine: sa.Engine, kind: str, path: str | Path, force: bool = False,
                policy: LoadPolicy | None = None) -> LoadStats:
    """Load one optional signal CSV (``kind`` in SCHEMAS or ``owners``); replaces that kind's rows.

    ``policy`` (with the area, for the municipality check) guards the load, see plekzoeker/db/guards.py."""
    p = Path(path)
    if kind == "owners":
        return load_input(engine, "owners", p, {OWNER: lambda: owner_chunks(p)}, force=force, policy=policy)
    if kind == "offers":  # places owners offer (sources/offers.py)
        from .offers import load_offers

        return load_offers(engine, p, force=force, policy=policy)
    if kind not in SCHEMAS:
        raise SourceError(p, f"unknown signal kind {kind!r}; use one of {', '.join([*SCHEMAS, 'owners', 'offers'])}")
    return load_input(engine, f"signal:{kind}", p, {SIGNAL: lambda: signal_chunks(kind, p)},
                      options={"partition": kind}, force=force, policy=policy)
