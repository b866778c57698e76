"""Reading a number out of a value that may be missing, text or NaN (JSON criteria, database rows, config).

One rule for every reader: ``None``, text that is not a number and NaN are *no number* (``None``),
never 0, so an unknown value can never pass for a measured one.
"""
from __future__ import annotations

import math


def finite_or_none(v: object, minimum: float | None = None) -> float | None:
    """``float(v)``, or None when ``v`` is None, not a number, NaN or below ``minimum`` (when given)."""
    if v is None:
        return None
    try:
        f = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if math.isnan(f) or (minimum is not None and f < minimum):
        return None
    return f
