"""Who owns a candidate: the owner export (core.owner) matched to candidates, for scoring and the lists.

Both the owner-priority criterion (scoring) and the coordinator lists (outputs) need it, so it lives
below both. The match order is argued in ``owners.sql``. Owner names are personal data: they leave
the database only when ``names`` is true (the lists with ``--with-owner-names``), never for scoring.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import sqlalchemy as sa

OWNER_SQL = Path(__file__).with_suffix(".sql").read_text(encoding="utf-8")
# the owner kinds an owner export may use (core.owner.owner_kind; checked on load)
OWNER_KINDS = ("natural_person", "municipality", "province", "state", "housing_corporation", "company", "other")


def owners(conn: sa.Connection, keys: list[str], names: bool) -> pd.DataFrame:
    """candidate_key, owner_kind, owner_name (None unless ``names``) for the keys that have an owner."""
    if not keys:
        return pd.DataFrame(columns=["candidate_key", "owner_kind", "owner_name"])
    rows = conn.execute(sa.text(OWNER_SQL), {"keys": keys, "names": bool(names)}).mappings().all()
    return pd.DataFrame(rows, columns=["candidate_key", "owner_kind", "owner_name"])
