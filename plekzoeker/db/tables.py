"""What a load is made of: the table spec a reader's chunks map onto, and the load's counts.

``TableSpec`` says where rows go and which rules apply to them (``load.py`` stages, validates and
swaps; ``guards.py`` checks plausibility); ``LoadStats`` is what one load did, for the log and the
ledger (``ledger.py``). Both are plain data, shared by the loader, the guards and every source.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import pandas as pd


@dataclass(frozen=True)
class TableSpec:
    """How a reader's chunks map onto a core table."""

    table: str                      # name in core (and of the staging table in raw)
    columns: tuple[str, ...]        # non-geometry columns, in COPY order
    geometry: str | None = "geom"   # target geometry column, fed from the chunk's geometry
    geom_kind: str | None = None    # "multipolygon" | "point" | "linestring"
    id_column: str | None = None    # unique identifier; duplicates dropped and counted
    checks: tuple[tuple[str, str], ...] = ()  # (SQL condition true for a bad row, reason); bad rows are rejected
    private: tuple[str, ...] = ()   # columns with personal data: left out of the raw row kept in meta.reject
    indexes: tuple[str, ...] = ()   # extra index definitions: "(col)" or "USING gist (geom)"
    partition: str | None = None    # replace only rows with this column = the load's partition value
    required: bool = True           # an empty result refuses the whole load
    schema: str = "core"            # where the table lives (core for inputs, result for stage outputs)
    # plausibility guards of a load (plekzoeker/db/guards.py); stage outputs (replace_tables) are not guarded
    extent: str | None = "reject"   # rows outside the RD New domain / the area: "reject" them, or "warn" (kept)
    plausible: tuple[tuple[str, str], ...] = ()  # (SQL condition true for an implausible row, reason)
    municipality: str | None = None  # SQL: a row's 4-digit municipality code (area check, shrink per municipality)
    duplicate_geometry: bool = True  # refuse a file where most rows share one geometry
    shrink_guard: bool = True       # refuse a load that removes more than ingest.max_shrink of the rows

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.table}"


@dataclass
class LoadStats:
    kind: str
    path: str
    input_id: int | None = None
    rows_in: int = 0
    rows_out: int = 0
    rejected: int = 0
    repaired: int = 0
    duplicates: int = 0
    implausible: int = 0            # of the rejected: rows failing a plausibility guard
    seconds: float = 0.0
    skipped: bool = False
    per_table: dict[str, int] = field(default_factory=dict)

    @property
    def rows_per_s(self) -> float:
        return self.rows_in / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        if self.skipped:
            return f"{self.kind}: {self.path} unchanged since last load (use --force to reload)"
        tables = ", ".join(f"{t} {n:,}" for t, n in self.per_table.items())
        return (f"{self.kind}: loaded {self.rows_out:,} rows ({tables}) from {self.path} in {self.seconds:.1f}s"
                f" ({self.rows_per_s:,.0f} rows/s); rejected {self.rejected}, repaired {self.repaired},"
                f" duplicates {self.duplicates}")


ChunkSource = Callable[[], Iterable[pd.DataFrame]]


def iter_frames(frames: Iterator[pd.DataFrame] | Iterable[pd.DataFrame]) -> ChunkSource:
    """Wrap an already-made iterable as a ChunkSource (for tests and small tables)."""
    return lambda: frames
