"""Fixtures for the reliability tests: two versions of the demo town (old and new inputs)."""
import pytest


@pytest.fixture(scope="session")
def town_versions(tmp_path_factory):
    """(old, new): the demo town with seed 7 and a changed one (seed 11), each with demo.yaml."""
    from plekzoeker.demo.config import write_demo_config
    from plekzoeker.demo.generate import generate_town

    dirs = []
    for seed in (7, 11):
        d = tmp_path_factory.mktemp(f"town{seed}")
        generate_town(d, seed=seed)
        write_demo_config(d)
        dirs.append(d)
    return dirs
