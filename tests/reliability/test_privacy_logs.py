"""Owner names of natural persons never reach logs, stdout or the published files of a full run."""
import csv
import os
import subprocess
import sys

from rel_helpers import REPO, record


def test_no_owner_names_in_logs_or_outputs(db, demo_dir, tmp_path):
    names = {r["owner_name"] for r in csv.DictReader((demo_dir / "owners.csv").open(encoding="utf-8"))
             if r["owner_kind"] == "natural_person"}
    assert names and all(n.endswith("-Testpersoon") for n in names)
    out = tmp_path / "out"
    env = {**os.environ}
    logs = []
    for args in (["ingest", "signals", "owners", str(demo_dir / "owners.csv"), "--force"],
                 ["ingest", "bag", str(demo_dir / "bag.gpkg")], ["ingest", "brk", str(demo_dir / "brk_percelen.gpkg")],
                 ["ingest", "osm", str(demo_dir / "town.osm.pbf")], ["detect"], ["score"], ["publish", "--out", str(out)]):
        res = subprocess.run([sys.executable, "-m", "plekzoeker.cli", "--debug", "--config", str(demo_dir / "demo.yaml"), *args],
                             capture_output=True, text=True, cwd=REPO, env=env)
        assert res.returncode == 0, res.stderr[-2000:]
        logs.append(res.stdout + res.stderr)
    text = "\n".join(logs)
    files = [p for p in out.rglob("*") if p.is_file()]
    assert files
    leaks = [(n, "logs") for n in names if n in text]
    leaks += [(n, str(p)) for p in files for n in names if n.encode() in p.read_bytes()]
    assert not leaks, leaks
    record("privacy_scan", {"names": len(names), "files_scanned": len(files), "log_bytes": len(text), "leaks": 0})


def test_rejected_owner_rows_keep_no_names(db, tmp_path):
    """A bad row of an owner export is kept in meta.reject for diagnosis, but without the owner name."""
    import sqlalchemy as sa

    from plekzoeker.sources.signals import load_signal

    path = tmp_path / "owners.csv"
    path.write_text("kadastrale_aanduiding,verblijfsobject_id,pand_id,owner_name,owner_kind\n"
                    "DMD00 C 1104,,,Jansen-Testpersoon,natural_person\n"
                    ",,,Pietersen-Testpersoon,natural_person\n"          # no key: rejected
                    "DMD00 C 1105,,,Klaassen-Testpersoon,alien\n",       # bad kind: rejected
                    encoding="utf-8")
    st = load_signal(db, "owners", path, force=True)
    assert st.rejected == 2
    with db.connect() as c:
        rejects = c.execute(sa.text("SELECT reason, raw FROM meta.reject")).all()
    assert len(rejects) == 2 and all(r.raw and "owner_kind" in r.raw for r in rejects)
    assert not [r for r in rejects if "Testpersoon" in r.raw], rejects
