"""The nightly Prefect flow on the demo town: runs, is incremental, and never interleaves."""
import pytest
import sqlalchemy as sa

from plekzoeker.errors import PlekzoekerError
from plekzoeker.pipelines import stages

pytestmark = pytest.mark.prefect


@pytest.fixture(scope="module")
def nightly_once(engine, demo_dir, prefect_server, tmp_path_factory):
    from plekzoeker.pipelines.flows import nightly

    with engine.begin() as conn:
        from db_helpers import TRUNCATE

        conn.execute(sa.text(TRUNCATE))
    out = tmp_path_factory.mktemp("nightly-out")
    first = nightly(config_path=str(demo_dir / "demo.yaml"), out_dir=str(out))
    return first, out


def test_nightly_publishes(nightly_once, engine):
    first, out = nightly_once
    assert (out / "latest" / "vacant_buildings.geojson").exists()
    assert first["publish"]["total"] > 0
    with engine.connect() as c:
        assert c.execute(sa.text("SELECT status FROM meta.run WHERE run_id = :r"), {"r": first["run_id"]}).scalar() == "success"


def test_task_runs_are_named_for_what_they_do_and_the_run_leaves_a_summary(nightly_once):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterKey,
        TaskRunFilter,
        TaskRunFilterName,
    )
    from prefect.client.schemas.sorting import ArtifactSort

    expected = {"ingest-bag GM9999", "ingest-osm GM9999", "detect GM9999", "score GM9999", "publish GM9999"}
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(task_run_filter=TaskRunFilter(name=TaskRunFilterName(any_=sorted(expected))))
        arts = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["nightly-summary"])),
                                     sort=ArtifactSort.CREATED_DESC, limit=1)
    assert {t.name for t in runs} == expected
    md = arts[0].data
    assert "## What changed" in md and "inputs loaded (new or changed): bag, brk, osm" in md
    assert "| bag |" in md and "## Timings (s)" in md


def test_retries_only_what_a_retry_can_fix():
    from prefect.states import Failed

    from plekzoeker.errors import ConfigError, DatabaseError, SourceError
    from plekzoeker.pipelines.flows import RETRY, retry_transient

    assert RETRY["retries"] >= 2 and RETRY["retry_delay_seconds"] == sorted(RETRY["retry_delay_seconds"])
    assert retry_transient(None, None, Failed(data=DatabaseError("server closed the connection")))
    assert retry_transient(None, None, Failed(data=OSError("disk busy")))
    assert not retry_transient(None, None, Failed(data=SourceError("bag.gpkg", "not a GeoPackage")))
    assert not retry_transient(None, None, Failed(data=ConfigError("bad")))
    assert not retry_transient(None, None, Failed(data=TimeoutError("took too long")))


def test_unchanged_rerun_skips_ingest_detect_score(nightly_once, demo_dir):
    from plekzoeker.pipelines.flows import nightly

    _, out = nightly_once
    second = nightly(config_path=str(demo_dir / "demo.yaml"), out_dir=str(out))
    assert all(r["skipped"] for r in second["ingest"] if not r["kind"].startswith("raster:"))
    assert second["detect"]["skipped"] is True and "unchanged" in second["detect"]["reason"]
    assert second["score"]["skipped"] is True
    assert second["publish"]["total"] == nightly_once[0]["publish"]["total"]


def test_weight_change_reruns_only_scoring(nightly_once, demo_dir, tmp_path):
    import yaml

    from plekzoeker.pipelines.flows import nightly

    conf = yaml.safe_load((demo_dir / "demo.yaml").read_text())

    def absolute(node):  # inputs are relative to the config file: point every one at the demo dir
        if isinstance(node, dict):
            return {k: absolute(v) for k, v in node.items()}
        return str(demo_dir / node) if isinstance(node, str) and (demo_dir / node).exists() else node

    conf["inputs"] = absolute(conf["inputs"])
    conf.setdefault("score", {}).setdefault("weights", {})["stop"] = 9.0
    cfg = tmp_path / "weights.yaml"
    cfg.write_text(yaml.safe_dump(conf))
    res = nightly(config_path=str(cfg), out_dir=str(nightly_once[1]))
    assert res["detect"]["skipped"] is True
    assert res["score"].get("skipped") is not True


def test_second_run_refused_while_one_holds_the_lock(engine, demo_dir):
    from plekzoeker.pipelines.flows import nightly

    with engine.connect() as holder:
        holder.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": stages.NIGHTLY_LOCK})
        holder.commit()
        with pytest.raises(PlekzoekerError, match="another plekzoeker run is in progress"):
            nightly(config_path=str(demo_dir / "demo.yaml"))
        holder.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": stages.NIGHTLY_LOCK})
        holder.commit()
