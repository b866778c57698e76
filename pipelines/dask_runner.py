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

import copy
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager

from plekzoeker.errors import ConfigError
from plekzoeker.scoring.partition import PARTITION_BY

log = logging.getLogger(__name__)

DASK_DEFAULTS = {"enabled": False, "address": None, "n_workers": 2, "partition_by": "municipality", "tiles": [2, 1],
                 "buffer_m": None, "detect_buffer_m": 1000}


def dask_settings(cfg: dict) -> dict:
    """The ``dask`` section with defaults filled in, checked (one-line ConfigError naming the key)."""
    s = copy.deepcopy(DASK_DEFAULTS)
    s.update({k: v for k, v in (cfg.get("dask") or {}).items()})
    unknown = set(s) - set(DASK_DEFAULTS)
    if unknown:
        raise ConfigError(f"config dask: unknown key(s) {sorted(unknown)}; known: {sorted(DASK_DEFAULTS)}")
    if s["partition_by"] not in PARTITION_BY:
        raise ConfigError(f"config dask.partition_by: {s['partition_by']!r} must be one of {', '.join(PARTITION_BY)}")
    tiles = s["tiles"]
    if not (isinstance(tiles, (list, tuple)) and len(tiles) == 2 and all(isinstance(t, int) and t >= 1 for t in tiles)):
        raise ConfigError(f"config dask.tiles: {tiles!r} must be [columns, rows], two integers >= 1")
    if not isinstance(s["n_workers"], int) or s["n_workers"] < 1:
        raise ConfigError(f"config dask.n_workers: {s['n_workers']!r} must be an integer >= 1")
    for k in ("buffer_m", "detect_buffer_m"):
        if s[k] is not None and (not isinstance(s[k], (int, float)) or s[k] < 0):
            raise ConfigError(f"config dask.{k}: {s[k]!r} must be a number of metres >= 0")
    if s["address"] is not None and not isinstance(s["address"], str):
        raise ConfigError(f"config dask.address: {s['address']!r} must be a scheduler address like tcp://host:8786")
    return s


@contextmanager
def dask_cluster(settings: dict, prefect_api_url: str | None = None) -> Iterator[str]:
    """Yield a scheduler address: the configured one, or that of a LocalCluster started here."""
    if settings["address"]:
        log.info("dask: using the scheduler at %s", settings["address"])
        yield settings["address"]
        return
    from distributed import LocalCluster

    env = {"PREFECT_API_URL": prefect_api_url} if prefect_api_url else {}
    # numeric libraries would start one thread per core in every worker: keep them to one
    env.update({k: os.environ.get(k, "1") for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")})
    with LocalCluster(n_workers=int(settings["n_workers"]), threads_per_worker=1, processes=True,
                      dashboard_address=None, env=env) as cluster:
        log.info("dask: LocalCluster with %d worker process(es) at %s", settings["n_workers"], cluster.scheduler_address)
        yield cluster.scheduler_address


def task_runner(address: str):
    """A Prefect task runner that submits to the Dask scheduler at ``address``."""
    from prefect_dask import DaskTaskRunner

    return DaskTaskRunner(address=address)
