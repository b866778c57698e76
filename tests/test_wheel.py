"""An installed wheel is the whole product: it holds every file the code reads, and runs the pipeline.

A user who installs plekzoeker (``pip install plekzoeker-*.whl``) has no source tree: the SQL of the
stages, the migrations, the default config and the vendored Leaflet must come from the wheel. This
test builds the wheel from a copy of the checkout's files, checks its contents against the non-Python files of the
package folders, installs it into a new virtualenv outside the source tree and runs
``plekzoeker demo-data`` + ``plekzoeker --config … nightly`` there, from a directory that is not the
checkout, to a published GeoJSON.

The new virtualenv gets its third-party dependencies through a ``.pth`` line naming this
environment's site-packages (installing them again would take minutes and the network); that
directory's own ``.pth`` files — among them the editable install of the checkout — are not processed
for a path added that way, so ``import plekzoeker`` can only resolve to the installed wheel, which
the test checks. The run uses a new, empty PREFECT_HOME and no PREFECT_API_URL: the first-run path
of Prefect's ephemeral server (its database prepared once, see ``plekzoeker/prefect_env.py``).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE_DIRS = {"plekzoeker": "plekzoeker", "sources": "plekzoeker/sources", "scoring": "plekzoeker/scoring",
                "outputs": "plekzoeker/outputs", "pipelines": "plekzoeker/pipelines"}


def _git_files(*paths: str) -> list[str]:
    """The checkout's files (tracked, or new and not ignored) that still exist."""
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", *paths], cwd=REPO,
                         capture_output=True, text=True)
    if out.returncode != 0:
        pytest.skip("not a git checkout: the wheel's expected contents come from git ls-files")
    return [f for f in out.stdout.split("\0") if f and ((REPO / f).is_symlink() or (REPO / f).exists())]


def expected_data_files() -> set[str]:
    """Every non-Python file in the package folders, as its path inside the wheel."""
    files = set()
    for f in _git_files(*PACKAGE_DIRS):
        top, _, rest = f.partition("/")
        if not f.endswith(".py") and "__pycache__" not in f:
            files.add(f"{PACKAGE_DIRS[top]}/{rest}")
    return files


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Built from a copy of the checkout's files, so a stale ``build/`` directory cannot fill gaps."""
    src, d = tmp_path_factory.mktemp("src"), tmp_path_factory.mktemp("wheel")
    for f in _git_files():
        (src / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / f, src / f, follow_symlinks=False)
    p = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(d), str(src)],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    (whl,) = d.glob("plekzoeker-*.whl")
    return whl


def test_wheel_holds_every_data_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = expected_data_files()
    assert {"plekzoeker/scoring/sql/plots.sql", "plekzoeker/outputs/vendor/leaflet/leaflet.js",
            "plekzoeker/default.yaml", "plekzoeker/db/migrations/versions/0001_initial.sql"} <= expected
    missing = sorted(expected - names)
    assert not missing, f"files the code reads are not in the wheel: {missing}"
    # the default config is a symlink in the checkout: the wheel holds its content
    with zipfile.ZipFile(wheel) as zf:
        assert zf.read("plekzoeker/default.yaml") == (REPO / "config" / "default.yaml").read_bytes()


@pytest.mark.prefect
def test_installed_wheel_runs_the_pipeline(wheel, tmp_path, scratch_db_url):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    py = venv / "bin" / "python"
    site = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "zz_plekzoeker_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    p = subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "--no-index", "-q",
                        str(wheel)], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]

    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "PLEKZOEKER_"))}
    env.update(DATABASE_URL=scratch_db_url, PLEKZOEKER_HOME=str(tmp_path / "home"),
               PREFECT_HOME=str(tmp_path / "prefect-home"), PREFECT_SERVER_ANALYTICS_ENABLED="false")
    where = subprocess.run([str(py), "-c", "import plekzoeker; print(plekzoeker.__file__)"], cwd=work, env=env,
                           capture_output=True, text=True, check=True).stdout.strip()
    assert where.startswith(str(venv)), f"plekzoeker imported from {where}, not from the installed wheel"

    exe = venv / "bin" / "plekzoeker"
    p = subprocess.run([str(exe), "demo-data", "town"], cwd=work, env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    p = subprocess.run([str(exe), "--config", "town/demo.yaml", "nightly", "--out", "out"], cwd=work, env=env,
                       capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, (p.stdout + p.stderr)[-4000:]
    assert "preparing Prefect's local database" in p.stderr  # the first-run path was taken, and said so
    assert list((tmp_path / "prefect-home").glob(".plekzoeker-db-ready-*"))

    latest = work / "out" / "latest"
    fc = json.loads((latest / "vacant_buildings.geojson").read_text())
    assert fc["type"] == "FeatureCollection" and fc["features"]
    assert (latest / "map.html").stat().st_size > 100_000  # the vendored Leaflet is inlined from the wheel
    summary = json.loads((latest / "summary.json").read_text())
    assert summary["total"] == len(fc["features"]) + len(
        json.loads((latest / "undeveloped_plots.geojson").read_text())["features"])
