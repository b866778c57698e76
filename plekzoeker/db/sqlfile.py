"""Named statements in a ``.sql`` file: ``-- name: x`` starts statement ``x`` (SQL lives beside its code).

One parser for every such file (the ledger's, the guards', the report's): a statement is the text
up to the next ``-- name:`` line, stripped, without its final ``;``; comment lines stay (PostgreSQL
ignores them).
"""
from __future__ import annotations

import re
from functools import cache
from pathlib import Path


@cache
def named_statements(path: Path) -> dict[str, str]:
    """``{name: statement}`` of a ``.sql`` file (read once per process)."""
    parts = re.split(r"^-- name: (\w+)\n", Path(path).read_text(encoding="utf-8"), flags=re.M)
    return {name: body.strip().rstrip(";") for name, body in zip(parts[1::2], parts[2::2])}
