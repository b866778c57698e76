"""SIGKILL the whole pipeline at >= 20 seeded points: outputs stay readable, every table is old or new, a rerun finishes."""
import random
import time

from rel_helpers import FINGERPRINTS, fingerprint, published_ok, record, run_driver

NAMED_POINTS = ["copy:pand#1", "copy:verblijfsobject#1", "validate:verblijfsobject#1", "swap#1", "copy:perceel#1",
                "swap#2", "copy:network_edge#1", "copy:poi#1", "swap#3", "swap#5", "swap#8", "copy:candidate#1",
                "swap#9", "copy:access#1", "copy:score#1", "swap#6"]
N_RANDOM = 8
SEED = 20261125


def test_killed_runs_leave_old_or_new_state(db, town_versions, tmp_path):
    old_town, new_town = town_versions
    out = tmp_path / "out"
    run_driver(new_town / "demo.yaml", out)
    new_fp = fingerprint(db)
    run_driver(old_town / "demo.yaml", out)
    old_fp = fingerprint(db)
    old_summary = published_ok(out)
    tables = [t for t in FINGERPRINTS if old_fp[t] != new_fp[t]]
    assert len(tables) >= 6, "the two towns must differ in most tables for this test to mean anything"

    rng = random.Random(SEED)
    t_run = 0.0
    t0 = time.monotonic()
    run_driver(old_town / "demo.yaml", out)
    t_run = time.monotonic() - t0
    points = [("named", p) for p in NAMED_POINTS] + [("after_s", round(rng.uniform(0.3, t_run), 2)) for _ in range(N_RANDOM)]
    rng.shuffle(points)
    survived = 0
    for kind, point in points:
        marker = tmp_path / "reached"
        marker.unlink(missing_ok=True)
        env = {"PLEKZOEKER_PAUSE_AT": point, "PLEKZOEKER_PAUSE_FILE": str(marker)} if kind == "named" else {}
        p = run_driver(new_town / "demo.yaml", out, env=env, wait=False)
        deadline = time.monotonic() + (120 if kind == "named" else point)
        while time.monotonic() < deadline and p.poll() is None:
            if kind == "named" and marker.exists():
                break
            time.sleep(0.02)
        if kind == "named":
            assert marker.exists(), f"checkpoint {point} never reached: {p.stderr.read().decode()[-2000:]}"
        # a random point can fall after the end of the run on a fast night: the run then simply finished
        # (Popen.kill sends SIGKILL only to a process that is still there), and the checks below still hold
        p.kill()
        p.wait(30)
        time.sleep(0.3)
        fp = fingerprint(db)
        mixed = [t for t in tables if fp[t] not in (old_fp[t], new_fp[t])]
        assert not mixed, f"after a kill at {kind}={point}, table(s) hold neither the old nor the new state: {mixed}"
        summary = published_ok(out)
        assert summary["run_id"] >= old_summary["run_id"]
        survived += 1
        # back to the old state for the next point, so every kill starts from the same place
        run_driver(old_town / "demo.yaml", out)
        assert fingerprint(db) == old_fp
    run_driver(new_town / "demo.yaml", out)  # a rerun finishes without manual clean-up
    assert fingerprint(db) == new_fp
    published_ok(out)
    record("kill_points", {"survived": survived, "tried": len(points), "seed": SEED,
                           "named": len(NAMED_POINTS), "random_times": N_RANDOM})
    assert survived == len(points) >= 20
