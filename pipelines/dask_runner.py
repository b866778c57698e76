"""Where partitioned stages run: a local Dask cluster per nightly run, or an existing scheduler.

Config section ``dask:`` (see config/default.yaml)::

    dask:
      enabled: false               # true: map detect and score over areas on Dask
      address: null                # tcp://host:8786 of a running scheduler; null: a LocalCluster
      n_workers: 2                 # LocalCluster worker processes (one thread each)
      partition_by: municipality   # municipality | tiles
      tiles: [2, 1]                # columns x rows, for partition_by: tiles
      buffer_m: null               # network buffer around each area; null: max cap_m + 3 x max_snap_m
      detect_buffer_m: 1000        # buffer for detection (buildings and owner unions of parcels)

Workers of a LocalCluster inherit this process's environment (DATABASE_URL, PLEKZOEKER_HOME) and
are given the Prefect API URL of the running flow, so their task runs report to the same server
(also in ephemeral mode). Workers of an existing cluster need ``pip install plekzoeker``, the
same DATABASE_URL, the input files at the same paths and PREFECT_API_URL in their environment.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from plekzoeker.errors import ConfigError
from plekzoeker.scoring.partition import PARTITION_BY

log = logging.getLogger(__name__)

DASK_KEYS = ("enabled", "address", "n_workers", "partition_by", "tiles", "buffer_m", "detect_buffer_m")


@dataclass(frozen=True)
class DaskSettings:
    """The ``dask`` section (documented in config/default.yaml, the only place its defaults live)."""

    enabled: bool
    address: str | None
    n_workers: int
    partition_by: str
    tiles: tuple[int, int]
    buffer_m: float | None
    detect_buffer_m: float

    @classmethod
    def from_config(cls, cfg: dict) -> DaskSettings:
        """Read and check ``cfg["dask"]`` (one-line ConfigError naming the key)."""
        s = cfg.get("dask")
        if not isinstance(s, dict):
            raise ConfigError(f"config dask: {s!r} must be a mapping (see config/default.yaml)")
        unknown, missing = set(s) - set(DASK_KEYS), set(DASK_KEYS) - set(s)
        if unknown or missing:
            raise ConfigError(f"config dask: unknown key(s) {sorted(unknown)}, missing {sorted(missing)}; "
                              f"known: {', '.join(DASK_KEYS)}")
        if not isinstance(s["enabled"], bool):
            raise ConfigError(f"config dask.enabled: {s['enabled']!r} must be true or false")
        if s["partition_by"] not in PARTITION_BY:
            raise ConfigError(f"config dask.partition_by: {s['partition_by']!r} must be one of {', '.join(PARTITION_BY)}")
        tiles = s["tiles"]
        if not (isinstance(tiles, (list, tuple)) and len(tiles) == 2 and all(isinstance(t, int) and t >= 1 for t in tiles)):
            raise ConfigError(f"config dask.tiles: {tiles!r} must be [columns, rows], two integers >= 1")
        if isinstance(s["n_workers"], bool) or not isinstance(s["n_workers"], int) or s["n_workers"] < 1:
            raise ConfigError(f"config dask.n_workers: {s['n_workers']!r} must be an integer >= 1")
        for k in ("buffer_m", "detect_buffer_m"):
            v = s[k]
            if (v is not None or k == "detect_buffer_m") and (isinstance(v, bool) or not isinstance(v, (int, float))
                                                                or v < 0):
                raise ConfigError(f"config dask.{k}: {v!r} must be a number of metres >= 0")
        if s["address"] is not None and not isinstance(s["address"], str):
            raise ConfigError(f"config dask.address: {s['address']!r} must be a scheduler address like tcp://host:8786")
        return cls(s["enabled"], s["address"], s["n_workers"], s["partition_by"], (tiles[0], tiles[1]),
                   None if s["buffer_m"] is None else float(s["buffer_m"]), float(s["detect_buffer_m"]))


def dask_settings(cfg: dict) -> DaskSettings:
    """The checked ``dask`` section."""
    return DaskSettings.from_config(cfg)


@contextmanager
def dask_cluster(settings: DaskSettings, prefect_api_url: str | None = None) -> Iterator[str]:
    """Yield a scheduler address: the configured one, or that of a LocalCluster started here."""
    if settings.address:
        log.info("dask: using the scheduler at %s", settings.address)
        yield settings.address
        return
    from distributed import LocalCluster

    env = {"PREFECT_API_URL": prefect_api_url} if prefect_api_url else {}
    # numeric libraries would start one thread per core in every worker: keep them to one
    env.update({k: os.environ.get(k, "1") for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")})
    with LocalCluster(n_workers=settings.n_workers, threads_per_worker=1, processes=True,
                      dashboard_address=None, env=env) as cluster:
        log.info("dask: LocalCluster with %d worker process(es) at %s", settings.n_workers, cluster.scheduler_address)
        yield cluster.scheduler_address


def task_runner(address: str):
    """A Prefect task runner that submits to the Dask scheduler at ``address``."""
    from prefect_dask import DaskTaskRunner

    return DaskTaskRunner(address=address)
