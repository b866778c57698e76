"""Energy labels (EP-Online open data, RVO) into core.energy_label: `ingest signals labels FILE`.

EP-Online publishes registered labels per address / BAG verblijfsobject as a bulk CSV (``;``) and
XML (``Pandcertificaat`` elements). Both are read here, the CSV streamed in chunks and the XML with
``xml.etree.ElementTree.iterparse`` (expat; no external entities, element by element). Columns are
matched by name with or without EP-Online's ``Pand_`` prefix (see ``ALIASES``); a row is keyed by
its ``verblijfsobject_id`` or by address (postcode + huisnummer), like the signal CSVs. Rejected into
``meta.reject`` with the reason: a malformed key, no label class, a class outside A++++..G, a
verblijfsobject id not in the loaded BAG. A file with the wrong columns, not UTF-8, broken or
truncated XML is refused with one line.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from plekzoeker.db.guards import LoadPolicy
from plekzoeker.db.load import LoadStats, TableSpec, load_input
from plekzoeker.errors import SourceError

from .fact_common import bag_id, canonical, col, read_table_csv, unknown_id_check
from .signals import FUTURE_SINCE, KEY_CHECK

ALIASES = {
    "verblijfsobject_id": ("bagverblijfsobjectid", "bag_verblijfsobject_id", "verblijfsobjectid", "vbo_id"),
    "postcode": (), "huisnummer": (),
    "huisletter": (),
    "toevoeging": ("huisnummer_toev", "huisnummertoevoeging", "huisnummer_toevoeging"),
    "label": ("energieklasse", "labelklasse", "energielabel", "label_class"),
    "registered": ("registratiedatum", "registration_date"),
    "label_type": ("gebouwklasse", "type", "gebouwtype"),
}
LABEL_CLASSES = ("A++++", "A+++", "A++", "A+", "A", "B", "C", "D", "E", "F", "G")
ENERGY_LABEL = TableSpec(
    table="energy_label",
    columns=("verblijfsobject_id", "postcode", "huisnummer", "huisletter", "toevoeging", "label", "registered",
             "label_type", "source_file", "input_id"),
    geometry=None, indexes=("(verblijfsobject_id)", "(postcode, huisnummer)"),
    checks=(KEY_CHECK, ("label IS NULL", "no label class (energieklasse)"),
            (f"label NOT IN ({', '.join(repr(c) for c in LABEL_CLASSES)})", "label class not one of A++++ .. G"),
            unknown_id_check("verblijfsobject_id", "verblijfsobject", "BAG")),
    plausible=((FUTURE_SINCE[0].replace("since", "registered"), "registration date in the future"),),
    municipality="left(verblijfsobject_id, 4)",
)


def tidy(df: pd.DataFrame, source: str) -> pd.DataFrame:
    """Canonical columns -> core.energy_label rows."""
    out = pd.DataFrame(index=df.index)
    out["verblijfsobject_id"] = bag_id(col(df, "verblijfsobject_id"))
    out["postcode"] = col(df, "postcode").map(lambda v: v and v.replace(" ", "").upper())
    out["huisnummer"] = pd.to_numeric(col(df, "huisnummer"), errors="coerce").astype("Int64")
    out["huisletter"] = col(df, "huisletter")
    out["toevoeging"] = col(df, "toevoeging")
    out["label"] = col(df, "label").map(lambda v: v and v.upper().replace(" ", ""))
    out["registered"] = pd.to_datetime(col(df, "registered"), errors="coerce", format="mixed").dt.date
    out["label_type"] = col(df, "label_type")
    out["source_file"] = source
    return out


def _xml_records(path: Path, chunk_size: int) -> Iterator[pd.DataFrame]:
    rows: list[dict] = []
    try:
        for _, el in ET.iterparse(path, events=("end",)):
            if el.tag.rsplit("}", 1)[-1] != "Pandcertificaat":
                continue
            rows.append({canonical(c.tag.rsplit("}", 1)[-1], ALIASES): (c.text or "").strip() for c in el})
            el.clear()
            if len(rows) >= chunk_size:
                yield pd.DataFrame(rows)
                rows = []
    except ET.ParseError as exc:
        raise SourceError(path, f"broken or truncated XML ({exc})") from None
    if rows:
        yield pd.DataFrame(rows)


def read_labels(path: str | Path, chunk_size: int = 100_000) -> Iterator[pd.DataFrame]:
    """Yield core.energy_label rows from an EP-Online CSV or XML export."""
    p = Path(path)
    if p.suffix.lower() == ".xml":
        n = 0
        for df in _xml_records(p, chunk_size):
            if "label" not in df.columns:
                raise SourceError(p, "Pandcertificaat without an energieklasse element")
            n += len(df)
            yield tidy(df, p.name)
        if n == 0:
            raise SourceError(p, "no Pandcertificaat elements: not an EP-Online XML export")
        return
    for df in read_table_csv(p, ALIASES, [["label"], ["verblijfsobject_id", "postcode"]], chunk_size):
        yield tidy(df, p.name)


def load_labels(engine: sa.Engine, path: str | Path, force: bool = False,
                policy: LoadPolicy | None = None) -> LoadStats:
    """Load an EP-Online label export into core.energy_label atomically (replacing the previous labels)."""
    return load_input(engine, "signal:labels", path, {ENERGY_LABEL: lambda: read_labels(path)}, force=force,
                      policy=policy)
