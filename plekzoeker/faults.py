"""Named checkpoints where tests inject faults (kill, outage) at a known point of real work.

Set ``PLEKZOEKER_PAUSE_AT=<name>`` (comma-separated names allowed) and ``PLEKZOEKER_PAUSE_FILE=<path>``:
when the process reaches that checkpoint it writes the checkpoint name to the file and sleeps, so
a test can SIGKILL it exactly there. Without those variables a checkpoint costs one dict lookup.
"""
from __future__ import annotations

import os
import time


def checkpoint(name: str) -> None:
    wanted = os.environ.get("PLEKZOEKER_PAUSE_AT")
    if not wanted or name not in wanted.split(","):
        return
    marker = os.environ.get("PLEKZOEKER_PAUSE_FILE")
    if marker:
        with open(marker, "a", encoding="utf-8") as fh:
            fh.write(name + "\n")
    time.sleep(float(os.environ.get("PLEKZOEKER_PAUSE_SECONDS", "120")))
