"""Cache of built street graphs, so a night with the same OSM input does not rebuild them.

A graph is stored per mode as ``<cache_dir>/graph-<mode>-<key>.npz`` (default cache_dir:
``$PLEKZOEKER_HOME/cache``). ``key`` is a sha256 over the latest successful ``osm`` load in
``meta.input`` (the file's sha256 and the load options, e.g. the area filter), the mode and the code
that builds the graph, so a new OSM file, another area or a change to :func:`build_graph` gives a
new key. Files hold plain arrays (``np.load(allow_pickle=False)``: nothing in a cache file can run
code); the KD-tree and the transposed graph are rebuilt on load. The zip CRC of every array is
checked on load, and a file that cannot be read, is truncated or does not match its key is
ignored (and replaced by the rebuilt graph). Writes go to a temporary file that is renamed into
place, so a killed run never leaves a half-written cache file under the real name. After a store,
older files of the same mode beyond the newest ``keep`` are removed.
"""
from __future__ import annotations

import hashlib
import inspect
import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import sqlalchemy as sa
from scipy.spatial import cKDTree

from plekzoeker.db import ledger
from plekzoeker.scoring import graph as graph_code
from plekzoeker.scoring.graph import EdgeSet, Graph

log = logging.getLogger(__name__)

FORMAT = 3                # 2: the physical edges with their geometry (edge snapping); 3: no len_ratio
KEEP = 2                  # newest files kept per mode (a test database and the real one can alternate)
_TMP_MAX_AGE_S = 3600     # leftover temporary files older than this are removed


def default_cache_dir() -> Path:
    from plekzoeker.settings import get_settings

    return get_settings().home / "cache"


def _code_version() -> str:
    """A hash of the code that builds graphs: changing it invalidates every cache file."""
    try:
        src = "".join(inspect.getsource(f) for f in (graph_code.build_graph, graph_code._csr_from_sorted,
                                                     graph_code._edge_set, graph_code._edge_geometries))
    except (OSError, TypeError):      # no source available (e.g. a frozen build)
        src = ""
    return hashlib.sha256(f"{FORMAT}\n{src}".encode()).hexdigest()[:16]


def osm_input_key(conn: sa.Connection) -> dict | None:
    """sha256 and options of the latest successful OSM load, or None when none is recorded."""
    row = ledger.latest_input(conn, "osm")
    return None if row is None else {"sha256": row.sha256, "options": row.options or {}}


def graph_key(osm_input: dict, mode: str) -> str:
    """Cache key of the ``mode`` graph built from that OSM load."""
    blob = json.dumps({"osm": osm_input, "mode": mode, "code": _code_version()}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def cache_path(cache_dir: Path, mode: str, key: str) -> Path:
    return Path(cache_dir) / f"graph-{mode}-{key}.npz"


def save_graph(cache_dir: Path, graph: Graph, key: str, keep: int = KEEP) -> Path:
    """Write ``graph`` atomically under its key; remove older files of its mode beyond ``keep``."""
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_path(cache_dir, graph.mode, key)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    csr = graph.csr
    try:
        with open(tmp, "wb") as fh:
            np.savez(fh, format=np.int64(FORMAT), key=np.str_(key), mode=np.str_(graph.mode),
                     directed=np.bool_(graph.directed),
                     stats=np.str_(json.dumps(graph.stats)), node_ids=graph.node_ids, xy=graph.xy,
                     data=csr.data, indices=csr.indices, indptr=csr.indptr,
                     **_edge_arrays(graph.edges))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:            # a full or read-only disk must not fail the score stage
        tmp.unlink(missing_ok=True)
        log.warning("graph cache: could not write %s (%s); continuing without a cache", path, exc)
        return path
    _clean(cache_dir, graph.mode, path, keep)
    return path


def _edge_arrays(es: EdgeSet | None) -> dict:
    if es is None:
        return {}
    return {"e_ab": es.ab, "e_len": es.length, "e_oneway": es.oneway, "e_coords": es.coords, "e_offsets": es.offsets}


def load_graph(cache_dir: Path, mode: str, key: str) -> Graph | None:
    """The cached graph for ``(mode, key)``, or None when there is none or it is unreadable."""
    path = cache_path(cache_dir, mode, key)
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            if int(z["format"]) != FORMAT or str(z["key"]) != key or str(z["mode"]) != mode:
                raise ValueError("header does not match")
            node_ids, xy = z["node_ids"], z["xy"]
            data, indices, indptr = z["data"], z["indices"], z["indptr"]
            directed, stats = bool(z["directed"]), json.loads(str(z["stats"]))
            eset = None
            if "e_ab" in z.files:
                eset = EdgeSet(ab=z["e_ab"], length=z["e_len"], oneway=z["e_oneway"], coords=z["e_coords"],
                               offsets=z["e_offsets"])
        n = len(node_ids)
        if eset is not None and (eset.ab.shape != (len(eset.length), 2) or len(eset.oneway) != len(eset.length)
                                 or len(eset.offsets) != len(eset.length) + 1
                                 or (len(eset.ab) and (int(eset.ab.max()) >= n or int(eset.offsets[-1]) != len(eset.coords)))):
            raise ValueError("edge arrays do not fit together")
        if xy.shape != (n, 2) or len(indptr) != n + 1 or len(data) != len(indices) or \
                (n and (int(indptr[-1]) != len(data) or (len(indices) and int(indices.max()) >= n))):
            raise ValueError("arrays do not fit together")
    except Exception as exc:  # noqa: BLE001 - zip, CRC, dtype, key errors: any unreadable file is a miss
        log.warning("graph cache: ignoring unreadable %s (%s); rebuilding", path.name, str(exc).splitlines()[0][:200])
        path.unlink(missing_ok=True)
        return None
    csr = sp.csr_array((data, indices, indptr), shape=(n, n))
    g = Graph(mode=mode, node_ids=node_ids, xy=xy, csr=csr, kdtree=cKDTree(xy), csr_t=None if directed else csr,
              directed=directed, stats=stats, edges=eset)
    if directed:
        g.reverse()
    return g


def cached_graph(conn: sa.Connection, mode: str, build: Callable[[], Graph], cache_dir: Path | None = None
                 ) -> tuple[Graph, str]:
    """The graph of ``mode``: from the cache when the OSM input is unchanged, else ``build()`` and store.

    Returns ``(graph, how)`` with ``how`` one of ``cached``, ``built`` or ``uncached`` (no OSM load
    recorded in meta.input, e.g. tables filled by hand: nothing to key the cache on).
    """
    osm = osm_input_key(conn)
    if osm is None:
        return build(), "uncached"
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    key = graph_key(osm, mode)
    t0 = time.perf_counter()
    g = load_graph(cache_dir, mode, key)
    if g is not None:
        log.info("%s graph: loaded from the cache in %.1fs (%d nodes)", mode, time.perf_counter() - t0, g.n_nodes)
        return g, "cached"
    g = build()
    save_graph(cache_dir, g, key)
    return g, "built"


def _clean(cache_dir: Path, mode: str, current: Path, keep: int) -> None:
    """Remove this mode's older cache files beyond the newest ``keep`` and stale temporary files."""
    def mtime(p: Path) -> float:
        try:
            return p.stat().st_mtime
        except OSError:            # removed meanwhile by another run
            return -1.0

    files = sorted((p for p in cache_dir.glob(f"graph-{mode}-*.npz") if p != current), key=mtime, reverse=True)
    for p in files[max(keep - 1, 0):]:
        p.unlink(missing_ok=True)
        log.info("graph cache: removed stale %s", p.name)
    now = time.time()
    for p in cache_dir.glob(f".graph-{mode}-*.npz.tmp-*"):
        if 0 <= mtime(p) < now - _TMP_MAX_AGE_S:
            p.unlink(missing_ok=True)
