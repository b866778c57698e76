"""Run a command from a small process and report its peak RSS: ``python -m benchmarks.spawn RESULT CMD...``.

Linux keeps a process's peak RSS (``ru_maxrss``) across ``exec``, starting from the RSS of the
process that forked it: a child forked from a benchmark holding 600 MB reports >= 600 MB even for
``/bin/true``. Forking from this small process instead keeps the figure the child's own (plus at
most this process's ~10 MB). Writes ``{"seconds", "rss_mb", "returncode"}`` to RESULT; the child
inherits stdout/stderr.
"""
import json
import os
import subprocess
import sys
import time

if __name__ == "__main__":
    t0 = time.perf_counter()
    p = subprocess.Popen(sys.argv[2:])
    _, status, usage = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    with open(sys.argv[1], "w") as fh:
        json.dump({"seconds": dt, "rss_mb": usage.ru_maxrss / 1024.0, "returncode": code}, fh)
    sys.exit(code)
