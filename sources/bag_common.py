"""What both BAG delivery forms share: the contract's columns and the bookkeeping of current versions.

An LVBAG extract carries every historic version (voorkomen) of an object and a GeoPackage may
deliver a unit as several rows (one per building); both readers emit each identifier once. They
key identifiers as int64 (:func:`id_keys`, exact through Arrow; -1 for a malformed one, which the
loader then rejects with its reason) and remember what they emitted in one sorted array
(:class:`SortedIds`, 8 bytes per id, so versions need not be adjacent in the file).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

PAND_COLUMNS = ["identificatie", "status", "bouwjaar", "documentdatum", "begingeldigheid", "geometry"]


VBO_COLUMNS = ["identificatie", "pand_ids", "gebruiksdoelen", "oppervlakte", "status", "openbare_ruimte",
               "huisnummer", "huisletter", "toevoeging", "postcode", "woonplaats", "documentdatum",
               "begingeldigheid", "geometry"]


def id_keys(ids: pd.Series) -> np.ndarray:
    """16-digit ids → int64 keys (exact, via Arrow); -1 for anything else."""
    s = ids.astype("str")
    valid = s.str.fullmatch(r"\d{16}").fillna(False).to_numpy(dtype=bool)
    out = np.full(len(s), -1, dtype=np.int64)
    if valid.any():
        out[valid] = pc.cast(pa.array(s[valid].to_numpy(dtype=object), type=pa.string()), pa.int64()).to_numpy()
    return out


class SortedIds:
    """A growing set of int64 identifiers kept as one sorted array (8 bytes per id)."""

    def __init__(self) -> None:
        self._a = np.empty(0, dtype=np.int64)

    def contains(self, keys: np.ndarray) -> np.ndarray:
        if len(self._a) == 0 or len(keys) == 0 or keys.min() > self._a[-1]:
            return np.zeros(len(keys), dtype=bool)
        pos = np.searchsorted(self._a, keys)
        pos[pos == len(self._a)] = len(self._a) - 1
        return self._a[pos] == keys

    def add(self, keys: np.ndarray) -> None:
        if len(keys) and (len(self._a) == 0 or keys[0] > self._a[-1]) and (keys[1:] > keys[:-1]).all():
            self._a = np.concatenate([self._a, keys])  # ids arriving in order (the usual case): append
        elif len(keys):
            # both runs sorted: the stable sort (timsort) merges them in linear time
            self._a = np.sort(np.concatenate([self._a, np.unique(keys)]), kind="stable")


class CurrentVersions:
    """Keep only the current voorkomen of every object in a stream of LVBAG chunks.

    Current = ``eindGeldigheid`` empty (the latest voorkomen if an object has several);
    objects without such a version are held back (their latest voorkomen) and released at the
    end unless a current version turns up later.
    """

    def __init__(self) -> None:
        self.seen = SortedIds()
        self.pending: pd.DataFrame | None = None

    @staticmethod
    def _best(frame: pd.DataFrame) -> pd.DataFrame:
        order = frame.sort_values(["_key", "_current", "_voorkomen", "_begin"], kind="stable",
                                  na_position="first")
        valid = order["_key"] >= 0
        return pd.concat([order[valid].drop_duplicates("_key", keep="last"), order[~valid]])

    def feed(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Return this chunk's current rows not emitted before; remember historic-only objects."""
        frame = self._best(frame)
        current = frame[frame["_current"]]
        current = current[(current["_key"] < 0) | ~self.seen.contains(current["_key"].to_numpy())]
        self.seen.add(current.loc[current["_key"] >= 0, "_key"].to_numpy())
        hist = frame[~frame["_current"] & (frame["_key"] >= 0)]
        if self.pending is not None and len(self.pending):
            hist = pd.concat([self.pending, hist])
        if len(hist):
            hist = hist[~self.seen.contains(hist["_key"].to_numpy())]
            hist = self._best(hist) if len(hist) else hist
        self.pending = hist
        return current

    def flush(self) -> pd.DataFrame | None:
        """Objects that never had a current version: their latest voorkomen."""
        rest, self.pending = self.pending, None
        if rest is None or not len(rest):
            return None
        return rest[~self.seen.contains(rest["_key"].to_numpy())]
