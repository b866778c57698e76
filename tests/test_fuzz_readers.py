"""Fuzzing the readers that take user files and fetched JSON: only SourceError/FetchError lines, no partial load.

Each case starts from a real sample (tests/data: LVBAG XML, BRK GML, signal CSV; the demo town's
OSM PBF and BAG GeoPackage) and applies a few random mutations — truncation, byte flips, inserted
junk, a deleted span, a duplicated span — then loads the result through the real loader into the
real database. A mutated file may still be valid (then it loads); otherwise the loader must raise
the project's one-line error (``SourceError``) and leave every core table exactly as it was. Any
other exception — a traceback a user would see — fails the test with the mutation that caused it.
Fetched OGC API JSON is fuzzed with generated documents of every JSON shape through the BAG fetch
parser: ``FetchError`` or a GeoPackage, never anything else.

The search is bounded and reproducible: ``derandomize=True`` with PLEKZOEKER_FUZZ_EXAMPLES
examples per reader (default 12; raise it for a longer hunt, e.g. 500 overnight).
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plekzoeker.errors import FetchError, SourceError

DATA = Path(__file__).resolve().parent / "data"
EXAMPLES = int(os.environ.get("PLEKZOEKER_FUZZ_EXAMPLES", "12"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
TABLES = ("core.pand", "core.verblijfsobject", "core.perceel", "core.signal", "core.network_edge", "core.poi",
          "meta.input")


def _state(engine) -> tuple:
    with engine.connect() as c:
        return tuple(c.execute(sa.text(
            f"SELECT count(*), md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM {t} t")).one()
            for t in TABLES if t != "meta.input") + (
            c.execute(sa.text("SELECT count(*) FROM meta.input WHERE status = 'loaded'")).scalar(),)


@st.composite
def mutated(draw, original: bytes) -> bytes:
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["truncate", "flip", "insert", "delete", "duplicate"]))
        n = len(data)
        if n == 0:
            break
        at = draw(st.integers(0, n - 1))
        if kind == "truncate":
            del data[at:]
        elif kind == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=24) | st.sampled_from(
                [b"<", b">", b"&", b"\"", b",", b"\n", b";", b"\x00", b"]]>", b"&lol;", b"\xff\xfe", b"-1", b"9" * 30]))
        elif kind == "delete":
            del data[at:at + draw(st.integers(1, 200))]
        else:
            end = min(n, at + draw(st.integers(1, 200)))
            data[at:at] = data[at:end]
    return bytes(data)


def _fuzz_load(engine, sample: Path, name: str, load) -> None:
    """A strategy-driven check for one reader: mutate ``sample``, write it as ``name``, ``load`` it."""
    original = sample.read_bytes()

    @FUZZ
    @given(mutated(original))
    def check(blob: bytes) -> None:
        d = Path(tempfile.mkdtemp(prefix="fuzz-"))
        try:
            path = d / name
            path.write_bytes(blob)
            before = _state(engine)
            try:
                load(engine, path)
            except SourceError as exc:
                assert "\n" not in str(exc).strip(), f"a multi-line error: {exc!r}"
                assert _state(engine) == before, f"a failed load changed the database: {exc}"
        finally:
            shutil.rmtree(d, ignore_errors=True)

    check()


@pytest.fixture
def empty(db):
    return db


def test_fuzz_signal_csv(empty):
    from plekzoeker.sources.signals import load_signal

    _fuzz_load(empty, DATA / "signals" / "vacancy.csv", "vacancy.csv",
               lambda e, p: load_signal(e, "vacancy", p, force=True))


def test_fuzz_lvbag_xml(empty):
    from plekzoeker.sources.bag import load_bag

    _fuzz_load(empty, DATA / "lvbag" / "0221PND15092020-000001.xml", "0221PND15092020-000001.xml",
               lambda e, p: load_bag(e, p, force=True))


def test_fuzz_brk_gml(empty):
    from plekzoeker.sources.brk import load_brk

    _fuzz_load(empty, DATA / "brk" / "kadastralekaart_perceel.gml", "kadastralekaart_perceel.gml",
               lambda e, p: load_brk(e, p, force=True))


def test_fuzz_osm_pbf(empty, demo_dir):
    from plekzoeker.sources.osm import load_osm

    _fuzz_load(empty, demo_dir / "town.osm.pbf", "town.osm.pbf", lambda e, p: load_osm(e, p, force=True))


def test_fuzz_bag_geopackage(empty, demo_dir):
    from plekzoeker.sources.bag import load_bag

    _fuzz_load(empty, demo_dir / "bag.gpkg", "bag.gpkg", lambda e, p: load_bag(e, p, force=True))


# --- fetched JSON -----------------------------------------------------------------------------------
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=12), kids, max_size=5),
                    max_leaves=25)
GEOMETRY = st.fixed_dictionaries({"type": st.sampled_from(["Polygon", "Point", "MultiPolygon", "Nonsense"]),
                                  "coordinates": JSON})
FEATURE = st.fixed_dictionaries({"type": st.just("Feature"), "geometry": GEOMETRY | JSON,
                                 "properties": st.dictionaries(st.sampled_from(
                                     ["identificatie", "bouwjaar", "status", "pand_identificatie", "oppervlakte",
                                      "gebruiksdoel", "huisnummer", "postcode"]), JSON | st.just("0221100000000001"),
                                     max_size=6) | JSON})
LINKS = st.lists(st.fixed_dictionaries({"rel": st.sampled_from(["next", "self"]),
                                        "href": JSON | st.just("http://127.0.0.1:9/bag/next")}) | JSON, max_size=3)
PAGE = st.fixed_dictionaries({"type": st.just("FeatureCollection"), "features": st.lists(FEATURE, max_size=4),
                              "links": LINKS | JSON}) | JSON


class _Pages:
    """The transport seen by the OGC API client: answers each request with the next fuzzed body."""

    def __init__(self, bodies: list):
        self.bodies = list(bodies)

    def get_json(self, url: str, *, what: str, params: dict | None = None):
        return self.bodies.pop(0) if self.bodies else {"type": "FeatureCollection", "features": []}


@FUZZ
@given(st.lists(PAGE, min_size=1, max_size=3))
def test_fuzz_ogcapi_bag_json(bodies):
    from shapely.geometry import box

    from plekzoeker.sources.fetch.ogcapi import fetch_bag_gpkg

    d = Path(tempfile.mkdtemp(prefix="fuzz-json-"))
    try:
        try:
            fetch_bag_gpkg(_Pages(bodies), "http://127.0.0.1:9/bag", box(0, 300_000, 300_000, 620_000), d / "bag.gpkg")
        except FetchError as exc:
            assert "\n" not in str(exc).strip()
    finally:
        shutil.rmtree(d, ignore_errors=True)
