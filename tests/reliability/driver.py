"""Run every stage once without Prefect (ingest --force, detect, score, publish): the process the kill tests kill.

    python tests/reliability/driver.py CONFIG.yaml OUT_DIR
"""
import sys

from plekzoeker.outputs.publish import publish
from plekzoeker.pipelines import stages
from plekzoeker.scoring.detect import run_detect
from plekzoeker.scoring.run import run_score
from plekzoeker.settings import load_config

if __name__ == "__main__":
    cfg_path, out_dir = sys.argv[1], sys.argv[2]
    cfg = load_config(cfg_path)
    engine = stages.engine_ready()
    run_id = stages.start_run(engine, "driver", {}, cfg)
    for kind, path in stages.input_files(cfg).items():
        stages.ingest_one(engine, cfg, kind, path, force=True)
    run_detect(engine, cfg, run_id)
    run_score(engine, cfg, run_id)
    publish(engine, cfg, out_dir, run_id)
    stages.finish_run(engine, run_id, "success", {})
    print("done")
