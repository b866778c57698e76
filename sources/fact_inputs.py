"""The fact sources as inputs of the nightly run: config keys -> input kinds -> loaders.

``inputs.zoning``, ``inputs.monuments.{rijks,gemeentelijk}``, ``inputs.3dbag``, ``inputs.natura2000``
and ``inputs.signals.labels`` (the latter arrives as ``signal:labels``). Kept here so the pipeline
(pipelines/stages.py) needs one call per direction.
"""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from plekzoeker.db.guards import LoadPolicy
from plekzoeker.db.load import LoadStats

KINDS = ("zoning", "monuments:rijks", "monuments:gemeentelijk", "3dbag", "natura2000", "signal:labels")


def fact_input_files(inputs: dict) -> dict[str, str]:
    """kind -> path of every configured fact input except labels (listed with the signals)."""
    files = {k: inputs[k] for k in ("zoning", "3dbag", "natura2000") if inputs.get(k)}
    files.update({f"monuments:{k}": v for k, v in (inputs.get("monuments") or {}).items() if v})
    return files


def is_fact_input(kind: str) -> bool:
    return kind in KINDS


def load_fact_input(engine: sa.Engine, kind: str, path: str | Path, force: bool = False,
                    policy: LoadPolicy | None = None) -> LoadStats:
    """Load one fact input of ``kind`` (see ``KINDS``)."""
    if kind == "zoning":
        from .zoning import load_zoning
        return load_zoning(engine, path, force=force, policy=policy)
    if kind.startswith("monuments:"):
        from .monuments import load_monuments
        return load_monuments(engine, path, kind.split(":", 1)[1], force=force, policy=policy)
    if kind == "3dbag":
        from .bag3d import load_3dbag
        return load_3dbag(engine, path, force=force, policy=policy)
    if kind == "natura2000":
        from .natura2000 import load_natura2000
        return load_natura2000(engine, path, force=force, policy=policy)
    from .labels import load_labels
    return load_labels(engine, path, force=force, policy=policy)
