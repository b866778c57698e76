"""Prefect's environment for plekzoeker runs: where its state lives, and a first start that does not time out.

``plekzoeker nightly`` runs its flow in Prefect's *ephemeral* mode when no ``PREFECT_API_URL`` is
set: Prefect starts a temporary API server as a subprocess and waits for its health check, by
default for 20 s (``PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS``). Two things make that wait
too short on a small machine:

* The very first start on a new ``PREFECT_HOME`` also creates and migrates Prefect's own SQLite
  database (about a hundred alembic revisions): 30 s and more on 2 cores. Every new user hit this on
  their first ``make demo``.
* Even a warm start imports the whole server stack; measured here at 16–21 s of the 20 s budget on a
  loaded 2-core machine (Prefect counts only its sleep time, so the wall time is longer still).

So both are handled, each where it belongs:

1. :func:`prepare` migrates Prefect's database *before* the first ephemeral start, with Prefect's own
   documented command (``prefect server database upgrade -y``) in a subprocess, under a file lock (two
   first runs at once do not migrate the same SQLite file together), and logs that it does so. A stamp
   per Prefect version marks the home as ready, so later runs pay nothing; a Prefect upgrade migrates
   once more.
2. :func:`configure` gives the ephemeral start a budget sized for a busy small machine
   (:data:`STARTUP_TIMEOUT_S`) unless the user set one.

If the server still does not come up, :func:`explain_start_failure` turns Prefect's ``RuntimeError``
into one :class:`~plekzoeker.errors.PrefectServerError` line that says what to do.
"""
from __future__ import annotations

import fcntl
import logging
import os
import subprocess
import sys
from pathlib import Path

from .errors import PrefectServerError

__all__ = ["STARTUP_TIMEOUT_S", "configure", "prepare", "explain_start_failure"]

STARTUP_TIMEOUT_S = 180
"""Seconds the ephemeral server may take to answer its health check (Prefect's default is 20)."""

MIGRATE_TIMEOUT_S = 900
TIMEOUT_VAR = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
_START_FAILED = "ephemeral Prefect API server"

log = logging.getLogger(__name__)


def configure(plekzoeker_home: Path, debug: bool = False) -> None:
    """Set Prefect's environment defaults for this process (a value the user set always wins).

    The ephemeral server is a child process that writes to our stderr; when it fails fast (say its
    database path is unusable) uvicorn would print a traceback there before our one-line
    :class:`PrefectServerError`. So unless ``debug``, the server logs only CRITICAL; set
    PREFECT_SERVER_LOGGING_LEVEL (or run with --debug) to see its own log."""
    os.environ.setdefault("PREFECT_HOME", str(plekzoeker_home / "prefect"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault(TIMEOUT_VAR, str(STARTUP_TIMEOUT_S))
    if not debug:
        os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "CRITICAL")


def _ephemeral() -> bool:
    return not os.environ.get("PREFECT_API_URL")


def _home() -> Path:
    return Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser()


def _stamp(home: Path) -> Path:
    import prefect

    return home / f".plekzoeker-db-ready-{prefect.__version__}"


def _ready(home: Path) -> bool:
    own_db = not os.environ.get("PREFECT_API_DATABASE_CONNECTION_URL") and \
        not os.environ.get("PREFECT_SERVER_DATABASE_CONNECTION_URL")
    return _stamp(home).exists() and (not own_db or (home / "prefect.db").exists())


def prepare() -> None:
    """Migrate Prefect's local database once, before the first ephemeral server start.

    A no-op with ``PREFECT_API_URL`` set (a real server owns its database) and on every run after the
    first. Raises PrefectServerError (one line) when the migration fails.
    """
    if not _ephemeral():
        return
    home = _home()
    if _ready(home):
        return
    home.mkdir(parents=True, exist_ok=True)
    with open(home / ".plekzoeker-db.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _ready(home):  # another process prepared it while we waited
            return
        log.warning("first run: preparing Prefect's local database in %s (once; a minute or more on a small machine)",
                    home)
        try:
            proc = subprocess.run([sys.executable, "-m", "prefect", "server", "database", "upgrade", "-y"],
                                  capture_output=True, text=True, timeout=MIGRATE_TIMEOUT_S, env=os.environ.copy())
        except subprocess.TimeoutExpired:
            raise PrefectServerError(f"preparing Prefect's database in {home} took over {MIGRATE_TIMEOUT_S} s; "
                                     "rerun the command, or set PREFECT_API_URL to a running Prefect server") from None
        if proc.returncode != 0:
            lines = [ln for ln in (proc.stderr + proc.stdout).strip().splitlines() if ln.strip()]
            raise PrefectServerError(f"preparing Prefect's database in {home} failed: "
                                     f"{lines[-1] if lines else f'exit {proc.returncode}'}")
        _stamp(home).touch()


def explain_start_failure(exc: BaseException) -> PrefectServerError | None:
    """The one-line error for Prefect's "timed out ... ephemeral Prefect API server", else None."""
    if not isinstance(exc, RuntimeError) or _START_FAILED not in str(exc):
        return None
    budget = os.environ.get(TIMEOUT_VAR, str(STARTUP_TIMEOUT_S))
    return PrefectServerError(
        f"Prefect's temporary API server did not start within {budget} s (PREFECT_HOME={_home()}): rerun the "
        f"command (--debug shows the server's own log), raise {TIMEOUT_VAR}, or start a server "
        "(`prefect server start`) and set PREFECT_API_URL")
