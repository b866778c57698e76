"""Named checkpoints where tests inject faults (kill, outage) at a known point of real work.

Set ``PLEKZOEKER_PAUSE_AT`` to comma-separated checkpoint names and ``PLEKZOEKER_PAUSE_FILE`` to a
path: when the process reaches a named checkpoint it appends the name to the file and sleeps
(``PLEKZOEKER_PAUSE_SECONDS``, default 120), so a test can SIGKILL it exactly there. ``name#n``
pauses at the n-th time the checkpoint is reached (e.g. ``swap#3``: the third table swap of the
process). With ``PLEKZOEKER_RESUME_FILE`` set the process goes on as soon as that file exists (the
sleep is then the upper bound), so a test can do its work while the run waits, however slow the
machine, and let it continue. Without those variables a checkpoint costs one environment lookup.
"""
from __future__ import annotations

import os
import time
from collections import Counter

_seen: Counter = Counter()


def checkpoint(name: str) -> None:
    wanted = os.environ.get("PLEKZOEKER_PAUSE_AT")
    if not wanted:
        return
    _seen[name] += 1
    targets = wanted.split(",")
    if name not in targets and f"{name}#{_seen[name]}" not in targets:
        return
    marker = os.environ.get("PLEKZOEKER_PAUSE_FILE")
    if marker:
        with open(marker, "a", encoding="utf-8") as fh:
            fh.write(f"{name}#{_seen[name]}\n")
            fh.flush()
    seconds = float(os.environ.get("PLEKZOEKER_PAUSE_SECONDS", "120"))
    resume = os.environ.get("PLEKZOEKER_RESUME_FILE")
    if not resume:
        time.sleep(seconds)
        return
    deadline = time.monotonic() + seconds
    while not os.path.exists(resume) and time.monotonic() < deadline:
        time.sleep(0.05)
