"""Copy what the reliability tests measured (tests/artifacts/reliability.json, written by `make test`)
into benchmarks/results.json under "reliability".

    python scripts/reliability_report.py
"""
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "tests" / "artifacts" / "reliability.json"
DST = REPO / "benchmarks" / "results.json"

if __name__ == "__main__":
    if not SRC.exists():
        sys.exit(f"{SRC} not found: run `make test` first (the reliability tests write it)")
    measured = json.loads(SRC.read_text())
    results = json.loads(DST.read_text()) if DST.exists() else {}
    kills = measured.get("kill_points", {})
    hostile = measured.get("hostile_inputs", {})
    files = measured.get("bad_input_files", {})
    wrong = measured.get("wrong_data_files", {})
    results["reliability"] = {
        "kill_points_survived": kills.get("survived"), "kill_points_tried": kills.get("tried"),
        # broken/truncated/wrong-kind files (test_cli_errors) + hostile identifiers and files (tests/reliability)
        "bad_inputs_refused_cleanly": (files.get("refused_cleanly") or 0) + (hostile.get("refused_or_handled") or 0),
        "bad_inputs_tried": (files.get("tried") or 0) + (hostile.get("tried") or 0),
        # readable files with wrong data (tests/reliability/test_wrong_data.py): refused, or their rows rejected
        "wrong_data_refused_or_handled": wrong.get("refused_or_handled"), "wrong_data_tried": wrong.get("tried"),
        "details": measured,
    }
    DST.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results["reliability"], indent=2))
