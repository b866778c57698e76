"""File paths that GDAL can open whatever their name."""
from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# GDAL/pyogrio split a path at ';' (and treat a leading '<DRIVER>:' as a driver prefix)
_UNSAFE = (";",)


@contextmanager
def gdal_path(path: str | Path) -> Iterator[str]:
    """Yield a path GDAL opens as this file: the path itself, or a symlink with a safe name beside nothing else.

    File names with spaces, quotes and unicode are fine for GDAL; a ';' is not, so such a file is
    reached through a temporary symlink (removed afterwards).
    """
    p = str(path)
    if not any(c in p for c in _UNSAFE):
        yield p
        return
    with tempfile.TemporaryDirectory(prefix="plekzoeker-") as tmp:
        link = Path(tmp) / ("input" + "".join(Path(p).suffixes[-2:]).replace(";", "_"))
        os.symlink(os.path.abspath(p), link)
        yield str(link)


def gdal_safe(reader):
    """Decorator for reader generators ``reader(path, ...)``: open odd file names through ``gdal_path``,
    and keep the user's own path in every error message."""
    import functools

    from .errors import SourceError

    @functools.wraps(reader)
    def wrapper(path, *args, **kwargs):
        with gdal_path(path) as safe:
            if safe == str(path):
                yield from reader(path, *args, **kwargs)
                return
            try:
                yield from reader(safe, *args, **kwargs)
            except SourceError as exc:
                raise SourceError(path, exc.problem.replace(safe, str(path))) from None

    return wrapper
