"""The managed PostGIS cluster: create, idempotent start, stale pid file, busy port, clear errors."""
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from plekzoeker.db.cluster import Cluster
from plekzoeker.errors import DatabaseError

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def cluster():
    home = Path(os.environ["PLEKZOEKER_HOME"]).resolve() / f"test-cluster-{os.getpid()}"
    c = Cluster(home)
    c.start()
    yield c
    c.stop("immediate")
    shutil.rmtree(c.root, ignore_errors=True)
    shutil.rmtree(home, ignore_errors=True)


def _postgis(c: Cluster) -> str:
    with psycopg.connect(host="127.0.0.1", port=c.port, user="plekzoeker", dbname="plekzoeker") as conn:
        return conn.execute("SELECT postgis_version()").fetchone()[0]


def test_start_creates_cluster_with_postgis_and_is_idempotent(cluster):
    assert cluster.is_running()
    assert _postgis(cluster)
    port = cluster.port
    url = cluster.start()  # second start: a no-op
    assert cluster.port == port and url.endswith(f":{port}/plekzoeker")
    if os.geteuid() == 0:  # never runs the server as root
        owner = cluster.datadir.stat().st_uid
        assert owner != 0


def test_stale_pid_file_and_busy_port_are_handled(cluster):
    cluster.stop()
    assert not cluster.is_running()
    pidfile = cluster.datadir / "postmaster.pid"
    # a stale pid file left by a killed server, pointing at a pid that is not postgres
    pidfile.write_text(f"{os.getpid() + 100000}\n{cluster.datadir}\n")
    if os.geteuid() == 0:
        shutil.chown(pidfile, user=cluster.datadir.owner())
    old_port = cluster.port
    with socket.socket() as busy:  # someone else took our port meanwhile
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        busy.bind(("127.0.0.1", old_port))
        busy.listen()
        cluster.start()
        assert cluster.is_running() and cluster.port != old_port
    assert _postgis(cluster)


def test_data_dir_owned_by_someone_else_is_a_clear_error(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root to create a directory owned by another user")
    home = Path(os.environ["PLEKZOEKER_HOME"]).resolve() / f"test-foreign-{os.getpid()}"
    try:
        (home / "pg" / "data").mkdir(parents=True)
        (home / "pg" / "data" / "PG_VERSION").write_text("15\n")
        os.chown(home / "pg" / "data", 0, 0)  # root-owned: the database user cannot use it
        with pytest.raises(DatabaseError, match="owned by 'root'"):
            Cluster(home).start()
    finally:
        shutil.rmtree(home, ignore_errors=True)


def test_cli_db_status_and_url_mask_password(tmp_path):
    env = dict(os.environ, DATABASE_URL="postgresql://u:sekrit@127.0.0.1:1/nodb")
    res = subprocess.run([sys.executable, "-m", "plekzoeker.cli", "db", "url"], capture_output=True, text=True, env=env, cwd=REPO)
    assert res.returncode == 0 and "sekrit" not in res.stdout and "***" in res.stdout
    res = subprocess.run([sys.executable, "-m", "plekzoeker.cli", "db", "status"], capture_output=True, text=True, env=env, cwd=REPO)
    assert res.returncode != 0
    assert "sekrit" not in res.stderr + res.stdout
    assert res.stderr.strip().startswith("error: cannot use database")
    assert "Traceback" not in res.stderr
