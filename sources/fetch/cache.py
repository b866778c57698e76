"""The per-area cache folder and its ``manifest.json``.

``<cache>/<area>/manifest.json`` holds, per dataset (``boundary``, ``bag``, ``brk``, ``bgt``,
``osm``): the file name, the source URL, the request (parameters, polygon WKT or query), the time
it was fetched (UTC, ISO 8601), size, sha256, licence and attribution. A dataset is *fresh* when
its entry exists, the file is there with that size and sha256 (re-hashed, so a file changed or
cut short by hand is not trusted), and it is younger than ``max_age``. ``fetch`` skips fresh
datasets (``--refresh`` ignores freshness, ``--max-age`` sets it).

The manifest itself is rewritten through a part file and a rename after each dataset that
succeeded, so an interrupted fetch leaves a manifest that describes exactly the files present.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

from .http import sha256_file, write_atomic

MANIFEST = "manifest.json"


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


@dataclass
class Manifest:
    folder: Path
    data: dict = field(default_factory=dict)

    @classmethod
    def load(cls, folder: Path) -> Manifest:
        p = Path(folder) / MANIFEST
        try:
            data = json.loads(p.read_text())
            if not isinstance(data, dict) or not isinstance(data.get("datasets"), dict):
                data = {}
        except (OSError, ValueError):
            data = {}
        data.setdefault("datasets", {})
        return cls(Path(folder), data)

    def entry(self, name: str) -> dict | None:
        return self.data["datasets"].get(name)

    def fresh(self, name: str, max_age_s: float) -> bool:
        e = self.entry(name)
        if not e:
            return False
        p = self.folder / e["file"]
        try:
            if p.stat().st_size != e["size"] or sha256_file(p) != e["sha256"]:
                return False
            age = (dt.datetime.now(dt.UTC) - dt.datetime.fromisoformat(e["fetched_at"])).total_seconds()
        except (OSError, KeyError, ValueError):
            return False
        return age <= max_age_s

    def record(self, name: str, file: Path, *, url: str, request: dict, licence: str, attribution: str,
               extra: dict | None = None) -> dict:
        file = Path(file)
        e = {"file": file.name, "url": url, "request": request, "fetched_at": now_iso(),
             "size": file.stat().st_size, "sha256": sha256_file(file), "licence": licence,
             "attribution": attribution, **(extra or {})}
        self.data["datasets"][name] = e
        self.save()
        return e

    def save(self) -> None:
        write_atomic(self.folder / MANIFEST, json.dumps(self.data, indent=2, ensure_ascii=False).encode())
