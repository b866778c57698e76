"""The project's own local PostGIS cluster, created and started under ``$PLEKZOEKER_HOME/pg``.

PostgreSQL refuses to run as root, so when plekzoeker runs as root the cluster is owned by and
run as an unprivileged system user (``postgres`` when the PostgreSQL package created it, else a
``plekzoeker`` user created here). The server listens on 127.0.0.1 on a free port and on a private
socket directory, with trust authentication for local connections only: it is a single-user
development/nightly store, not a shared server. Point ``DATABASE_URL`` at a real server instead
to run against one (then nothing here is used).

``SERVER_SETTINGS`` (appended to ``postgresql.conf`` at ``initdb``) suit a single-node store that
loads in bulk: ``wal_level=minimal`` with ``max_wal_senders=0`` (no replication, no WAL archive:
a COPY into a table created in the same transaction, which is how every load stages, writes no WAL
and the table is synced at commit instead), ``max_wal_size``/``checkpoint_timeout`` large enough that
a load does not trigger checkpoints, ``synchronous_commit=off`` (a server crash can undo the last
fraction of a second of commits: such a load then did not happen; never an inconsistent state;
``fsync`` stays on). A ``DATABASE_URL`` server keeps its own settings: the loader assumes none of
these, only its speed differs (the ingest benchmark names the settings its figures were measured with).
"""
from __future__ import annotations

import hashlib
import logging
import os
import pwd
import re
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from plekzoeker.errors import DatabaseError

log = logging.getLogger(__name__)

PG_MAJOR = "15"
DB_NAME = "plekzoeker"
DB_USER = "plekzoeker"
INSTALL_HINT = "apt-get update && apt-get install -y postgresql-15-postgis-3"

SERVER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "max_connections": "200",
    "shared_buffers": "256MB",
    "work_mem": "64MB",
    "maintenance_work_mem": "512MB",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "max_wal_size": "4GB",
    "checkpoint_timeout": "15min",
    "synchronous_commit": "off",
    "fsync": "on",
    "timezone": "'UTC'",
    "log_min_messages": "warning",
}


def _check_dbname(name: str) -> None:
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise DatabaseError(f"invalid database name {name!r} (lower-case letters, digits and _ only)")


def pg_bindir() -> Path:
    """Directory with initdb/pg_ctl/postgres, from PG_BINDIR or the Debian location."""
    candidates = [os.environ.get("PG_BINDIR"), f"/usr/lib/postgresql/{PG_MAJOR}/bin"]
    which = shutil.which("pg_config")
    if which:
        try:
            candidates.append(subprocess.run([which, "--bindir"], capture_output=True, text=True, check=True).stdout.strip())
        except (OSError, subprocess.CalledProcessError):
            pass
    for c in candidates:
        if c and (Path(c) / "initdb").exists() and (Path(c) / "pg_ctl").exists():
            return Path(c)
    raise DatabaseError(f"PostgreSQL {PG_MAJOR} is not installed (no initdb found). Install it with: {INSTALL_HINT}")


def postgis_available(bindir: Path) -> bool:
    """True when the PostGIS extension files are installed for this server."""
    try:
        sharedir = subprocess.run([str(bindir / "pg_config"), "--sharedir"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        sharedir = f"/usr/share/postgresql/{PG_MAJOR}"
    return any(Path(sharedir, "extension").glob("postgis.control"))


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    """A managed cluster under ``home``. All methods are idempotent.

    When running as root and ``home`` sits below a directory the database user cannot enter
    (e.g. under /root or a 0700 temp dir), the cluster lives in /var/tmp/plekzoeker-pg/<hash>
    instead, and a warning says so.
    """

    home: Path

    def __post_init__(self) -> None:
        self.home = Path(self.home).resolve()
        self._root = self.home / "pg"
        user = self._run_user()
        if user is not None:
            self.home.mkdir(parents=True, exist_ok=True)
            if not self._user_can_enter(user, self.home):
                digest = hashlib.sha256(str(self.home).encode()).hexdigest()[:12]
                self._root = Path("/var/tmp/plekzoeker-pg") / digest
                log.warning("database user '%s' cannot enter %s; keeping the cluster in %s", user, self.home, self._root)
                self._root.parent.mkdir(mode=0o755, exist_ok=True)

    @staticmethod
    def _user_can_enter(user: str, path: Path) -> bool:
        runuser = shutil.which("runuser") or "/usr/sbin/runuser"
        return subprocess.run([runuser, "-u", user, "--", "test", "-x", str(path)], capture_output=True).returncode == 0

    @property
    def root(self) -> Path:
        return self._root

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    @property
    def sockdir(self) -> Path:
        return self.root / "run"

    @property
    def logfile(self) -> Path:
        return self.root / "server.log"

    @property
    def portfile(self) -> Path:
        return self.root / "port"

    # --- who runs the server -------------------------------------------------------------
    def _run_user(self) -> str | None:
        """The unprivileged user to run as when we are root, created if needed; None if not root."""
        if os.geteuid() != 0:
            return None
        for name in ("postgres", "plekzoeker"):
            try:
                pwd.getpwnam(name)
                return name
            except KeyError:
                continue
        res = subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "plekzoeker"],
                             capture_output=True, text=True)
        if res.returncode != 0:
            raise DatabaseError(f"running as root and no unprivileged user to run PostgreSQL as: useradd failed: {res.stderr.strip()}")
        return "plekzoeker"

    def _as_user(self, cmd: list[str]) -> list[str]:
        user = self._run_user()
        if user is None:
            return cmd
        runuser = shutil.which("runuser") or "/usr/sbin/runuser"
        return [runuser, "-u", user, "--", *cmd]

    def _check_traversable(self, user: str | None) -> None:
        if user is None:
            return
        if not self._user_can_enter(user, self.root):
            raise DatabaseError(
                f"the database user '{user}' cannot reach {self.root} (a parent directory is private). "
                f"Set PLEKZOEKER_HOME to a directory it can reach, e.g. PLEKZOEKER_HOME=/var/lib/plekzoeker"
            )

    def _prepare_dirs(self) -> str | None:
        user = self._run_user()
        self.root.mkdir(parents=True, exist_ok=True)
        self.sockdir.mkdir(parents=True, exist_ok=True)
        if user is not None:
            pw = pwd.getpwnam(user)
            for p in (self.root, self.sockdir):
                os.chown(p, pw.pw_uid, pw.pw_gid)
            self.root.chmod(0o700)
            if self.datadir.exists():
                st = self.datadir.stat()
                if st.st_uid != pw.pw_uid:
                    owner = pwd.getpwuid(st.st_uid).pw_name if st.st_uid else "root"
                    raise DatabaseError(
                        f"data directory {self.datadir} is owned by '{owner}', not '{user}': "
                        f"fix with `chown -R {user} {self.datadir}` or use another PLEKZOEKER_HOME"
                    )
            self._check_traversable(user)
        elif self.datadir.exists() and self.datadir.stat().st_uid != os.geteuid():
            raise DatabaseError(f"data directory {self.datadir} is owned by someone else: use another PLEKZOEKER_HOME")
        return user

    # --- state ------------------------------------------------------------------------------
    @property
    def port(self) -> int | None:
        try:
            return int(self.portfile.read_text().strip())
        except (OSError, ValueError):
            return None

    def is_initialised(self) -> bool:
        return (self.datadir / "PG_VERSION").exists()

    def is_running(self) -> bool:
        if not self.is_initialised():
            return False
        res = subprocess.run(self._as_user([str(pg_bindir() / "pg_ctl"), "status", "-D", str(self.datadir)]), capture_output=True, text=True)
        return res.returncode == 0

    def url(self, dbname: str = DB_NAME) -> str:
        port = self.port
        if port is None:
            raise DatabaseError("the local database has never been started: run `plekzoeker db start`")
        return f"postgresql+psycopg://{DB_USER}@127.0.0.1:{port}/{dbname}"

    # --- actions ----------------------------------------------------------------------------
    def initdb(self) -> None:
        bindir = pg_bindir()
        self._prepare_dirs()
        if self.is_initialised():
            return
        log.info("creating PostgreSQL cluster in %s", self.datadir)
        tmp = self.root / "data.init"
        if tmp.exists():  # a killed initdb left this behind
            shutil.rmtree(tmp)
        user = self._run_user()
        if user is not None:
            tmp.mkdir()
            pw = pwd.getpwnam(user)
            os.chown(tmp, pw.pw_uid, pw.pw_gid)
        res = subprocess.run(
            self._as_user([str(bindir / "initdb"), "-D", str(tmp), "-U", DB_USER, "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]),
            capture_output=True, text=True,
        )
        if res.returncode != 0:
            raise DatabaseError(f"initdb failed: {res.stderr.strip().splitlines()[-1] if res.stderr.strip() else res.stdout}")
        conf = tmp / "postgresql.conf"
        with conf.open("a") as fh:
            fh.write("\n# --- plekzoeker managed settings ---\n")
            for k, v in SERVER_SETTINGS.items():
                fh.write(f"{k} = {v}\n")
        tmp.rename(self.datadir)  # atomic: a half-made cluster is never mistaken for a good one

    def start(self, wait_s: float = 60.0) -> str:
        """Start the server (creating the cluster first if needed). Returns the database URL."""
        bindir = pg_bindir()
        if not postgis_available(bindir):
            raise DatabaseError(f"PostGIS is not installed for PostgreSQL {PG_MAJOR}. Install it with: {INSTALL_HINT}")
        self.initdb()
        if self.is_running():
            log.debug("local PostGIS already running on port %s", self.port)
            self._ensure_database()
            return self.url()
        self._remove_stale_pid()
        port = self.port
        if port is None or not port_is_free(port):
            if port is not None:
                log.warning("port %s is busy; choosing another one", port)
            port = free_port()
        self.portfile.write_text(f"{port}\n")
        cmd = [str(bindir / "pg_ctl"), "start", "-D", str(self.datadir), "-l", str(self.logfile), "-w",
               "-t", str(int(wait_s)), "-o", f"-p {port} -k {self.sockdir}"]
        user = self._run_user()
        if user is not None and not self.logfile.exists():
            self.logfile.touch()
            pw = pwd.getpwnam(user)
            os.chown(self.logfile, pw.pw_uid, pw.pw_gid)
        res = subprocess.run(self._as_user(cmd), capture_output=True, text=True)
        if res.returncode != 0:
            tail = self.logfile.read_text().strip().splitlines()[-3:] if self.logfile.exists() else []
            raise DatabaseError(f"PostgreSQL did not start on port {port}: {' | '.join(tail) or res.stderr.strip()}")
        log.info("local PostGIS started on 127.0.0.1:%s (data in %s)", port, self.datadir)
        self._ensure_database()
        return self.url()

    def _remove_stale_pid(self) -> None:
        pidfile = self.datadir / "postmaster.pid"
        if not pidfile.exists():
            return
        try:
            pid = int(pidfile.read_text().splitlines()[0])
            os.kill(pid, 0)
            alive = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].endswith(b"postgres")
        except (OSError, ValueError, IndexError):
            alive = False
        if not alive:
            log.warning("removing stale pid file %s", pidfile)
            pidfile.unlink(missing_ok=True)

    def _ensure_database(self, dbname: str = DB_NAME) -> None:
        import psycopg

        _check_dbname(dbname)
        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(host="127.0.0.1", port=self.port, user=DB_USER, dbname="postgres", autocommit=True) as conn:
                    exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
                    if not exists:
                        conn.execute(f'CREATE DATABASE "{dbname}"')
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        with psycopg.connect(host="127.0.0.1", port=self.port, user=DB_USER, dbname=dbname, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")

    def stop(self, mode: str = "fast") -> bool:
        """Stop the server; returns False when it was not running."""
        if not self.is_running():
            return False
        res = subprocess.run(self._as_user([str(pg_bindir() / "pg_ctl"), "stop", "-D", str(self.datadir), "-m", mode, "-w"]),
                             capture_output=True, text=True)
        if res.returncode != 0:
            raise DatabaseError(f"could not stop PostgreSQL: {res.stderr.strip()}")
        return True

    def create_database(self, dbname: str) -> str:
        """Create (or reuse) another database in this cluster, with PostGIS, and return its URL."""
        self._ensure_database(dbname)
        return self.url(dbname)

    def drop_database(self, dbname: str) -> None:
        import psycopg

        _check_dbname(dbname)
        with psycopg.connect(host="127.0.0.1", port=self.port, user=DB_USER, dbname="postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
