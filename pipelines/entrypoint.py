"""File entrypoint for ``prefect deploy`` (prefect.yaml): Prefect loads this file as a script,
so it imports the flow by its absolute, installed name."""
from plekzoeker.pipelines.flows import (
    detect_flow,
    ingest_flow,
    nightly,
    publish_flow,
    score_flow,
)

__all__ = ["detect_flow", "ingest_flow", "nightly", "publish_flow", "score_flow"]
