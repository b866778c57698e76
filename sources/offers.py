"""Places owners offer (``plekzoeker ingest signals offers FILE.csv``) into core.offer.

The other half of the platform: an owner comes forward with a place. A row names it by a BAG
``verblijfsobject_id`` or ``pand_id`` (16 digits), by address (``postcode`` + ``huisnummer`` [+
``huisletter``, ``toevoeging``]) or by ``kadastrale_aanduiding`` ("DMD00 C 1100"); optional
``offered_from`` / ``offered_until`` (YYYY-MM-DD), ``conditions`` (free text) and ``contact``.

``contact`` is personal data like owner names: it is a private column (left out of the rows kept in
meta.reject), it is never read by the ranking or the publish (only its presence is), so it cannot
reach GeoJSON, the map or a log line. A row without any key, with an unreadable date or ending before
it starts is rejected with the reason; a file without any key column is refused.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from plekzoeker.db.guards import LoadPolicy
from plekzoeker.db.load import LoadStats, TableSpec, load_input
from plekzoeker.errors import SourceError

from .signals import _norm_address, read_csv_chunks

KEYS = ("verblijfsobject_id", "pand_id", "postcode", "kadastrale_aanduiding")
OFFER = TableSpec(
    table="offer",
    columns=("verblijfsobject_id", "pand_id", "postcode", "huisnummer", "huisletter", "toevoeging",
             "kadastrale_aanduiding", "offered_from", "offered_until", "conditions", "contact", "source_file", "input_id"),
    geometry=None,
    checks=(("NOT (coalesce(verblijfsobject_id ~ '^[0-9]{16}$', false) OR coalesce(pand_id ~ '^[0-9]{16}$', false) "
             "OR (coalesce(postcode ~ '^[0-9]{4}[A-Z]{2}$', false) AND huisnummer IS NOT NULL) "
             "OR coalesce(kadastrale_aanduiding ~ '^[A-Z]{3}[0-9]{2} [A-Z]{1,2} [0-9]+', false))",
             "no 16-digit verblijfsobject_id / pand_id, postcode (1234AB) + huisnummer or kadastrale aanduiding"),
            ("offered_until < offered_from", "offered_until is before offered_from")),
    private=("contact",),
    municipality="CASE WHEN coalesce(verblijfsobject_id, pand_id) ~ '^[0-9]{16}$' "
                 "THEN left(coalesce(verblijfsobject_id, pand_id), 4) END",
    shrink_guard=False,
)


def _date(path: Path, s: pd.Series, name: str) -> pd.Series:
    d = pd.to_datetime(s, errors="coerce", format="%Y-%m-%d")
    bad = s.notna() & d.isna()
    if bad.all() and bad.any():
        raise SourceError(path, f"column {name}: no value is a date YYYY-MM-DD (first: {s[bad].iloc[0]!r})")
    return d.dt.date.astype(object).where(d.notna(), None)


def offer_chunks(path: Path) -> Iterator[pd.DataFrame]:
    """The offers CSV as core.offer rows (addresses normalised, dates parsed; unreadable dates: NULL)."""
    for chunk in read_csv_chunks(path, []):
        if not any(k in chunk.columns for k in KEYS):
            raise SourceError(path, f"needs one of the columns {', '.join(KEYS)} (and huisnummer with postcode)")
        out = _norm_address(chunk)
        for c in ("pand_id", "kadastrale_aanduiding", "conditions", "contact"):
            out[c] = chunk[c].str.strip() if c in chunk.columns else None
        if "kadastrale_aanduiding" in chunk.columns:
            out["kadastrale_aanduiding"] = out["kadastrale_aanduiding"].str.upper().str.split().str.join(" ")
        for c in ("offered_from", "offered_until"):
            out[c] = _date(path, chunk[c], c) if c in chunk.columns else None
        out["source_file"] = path.name
        yield out


def load_offers(engine: sa.Engine, path: str | Path, force: bool = False, policy: LoadPolicy | None = None) -> LoadStats:
    """Load an offers CSV into core.offer (replacing the previous offers)."""
    p = Path(path)
    return load_input(engine, "offers", p, {OFFER: lambda: offer_chunks(p)}, force=force, policy=policy)
