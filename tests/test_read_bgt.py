"""Tests for sources/bgt_read.py on the real Otterlo BGT zip (no database)."""
from __future__ import annotations

import zipfile
from pathlib import Path

import defusedxml.ElementTree as ET
import geopandas as gpd
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

from plekzoeker.area import Area
from plekzoeker.errors import SourceError
from plekzoeker.sources.bgt_read import BGT_COLUMNS, BGT_LAYERS, read_bgt

BGT_ZIP = Path(__file__).resolve().parent / "data" / "bgt" / "otterlo-bgt.zip"
CHECKED = ("waterdeel", "pand", "onbegroeidterreindeel", "ondersteunendwaterdeel")


def xml_current(layer: str) -> dict[str, str | None]:
    """lokaalID -> class/fysiekVoorkomen of the current, existing records of one layer (ElementTree)."""
    with zipfile.ZipFile(BGT_ZIP) as zf, zf.open(f"bgt_{layer}.gml") as fh:
        root = ET.parse(fh).getroot()
    out: dict[str, str | None] = {}
    for member in root:
        obj = member[0]
        kids = {child.tag.split("}")[1]: child for child in obj}
        if "eindRegistratie" in kids or "terminationDate" in kids or kids["bgt-status"].text != "bestaand":
            continue
        geom = next(child for name, child in kids.items() if name.startswith("geometrie2d"))
        if not any(e.tag.endswith(("}Polygon", "}MultiSurface")) for e in geom.iter()):
            continue
        klasse = kids.get("bgt-fysiekVoorkomen", kids.get("class"))
        out[obj.find(".//{*}lokaalID").text] = None if klasse is None else klasse.text
    return out


def collect(chunks) -> gpd.GeoDataFrame:
    chunks = list(chunks)
    assert chunks, "reader yielded nothing"
    for c in chunks:
        assert isinstance(c, gpd.GeoDataFrame) and c.crs.to_epsg() == 28992
        assert list(c.columns) == BGT_COLUMNS
    return pd.concat(chunks, ignore_index=True)


@pytest.fixture(scope="module")
def bgt() -> gpd.GeoDataFrame:
    return collect(read_bgt(BGT_ZIP))


def test_all_default_layers_present(bgt):
    assert set(bgt["laag"]) == set(BGT_LAYERS)
    assert bgt["identificatie"].notna().all() and bgt["identificatie"].is_unique


@pytest.mark.parametrize("layer", CHECKED)
def test_current_records_match_the_file(bgt, layer):
    expected = xml_current(layer)
    got = bgt[bgt["laag"] == layer]
    assert len(got) == len(expected) > 0
    klasse = [None if pd.isna(k) else k for k in got["klasse"]]
    assert dict(zip(got["identificatie"], klasse)) == expected


def test_counts_and_historic_records_skipped(bgt):
    counts = bgt.groupby("laag").size().to_dict()
    # current + existing records in the fixture (about half of every file is history)
    assert counts == {"waterdeel": 296, "wegdeel": 1252, "begroeidterreindeel": 638, "onbegroeidterreindeel": 427,
                      "pand": 1681, "ondersteunendwegdeel": 627, "ondersteunendwaterdeel": 87}


def test_klasse_is_the_physical_class(bgt):
    klassen = bgt.groupby("laag")["klasse"].agg(lambda s: set(s.dropna()))
    assert klassen["waterdeel"] == {"waterloop", "watervlakte", "greppel, droge sloot"}
    assert {"erf", "gesloten verharding", "onverhard"} <= klassen["onbegroeidterreindeel"]
    assert {"gesloten verharding", "open verharding"} <= klassen["wegdeel"]
    assert "rijbaan lokale weg" not in klassen["wegdeel"]  # the function is not the class
    assert {"grasland overig", "groenvoorziening"} <= klassen["begroeidterreindeel"]
    assert bgt.loc[bgt["laag"] == "pand", "klasse"].isna().all()


def test_polygons_only_in_rd_new(bgt):
    assert set(bgt.geometry.geom_type) <= {"Polygon", "MultiPolygon"}
    assert not shapely.has_z(bgt.geometry.array).any()
    minx, miny, maxx, maxy = bgt.total_bounds
    assert 178_000 < minx and maxx < 184_000 and 454_000 < miny and maxy < 460_000
    # arcs (gml:Arc) were linearised into valid rings
    assert bgt.geometry.is_valid.mean() > 0.99


def test_layer_selection_chunking_and_area(bgt):
    water = collect(read_bgt(BGT_ZIP, layers=("waterdeel",), chunk_size=100))
    assert set(water["laag"]) == {"waterdeel"} and len(water) == (bgt["laag"] == "waterdeel").sum()
    area = Area(bbox=(181000, 456500, 181500, 457000))
    near = collect(read_bgt(BGT_ZIP, layers=("pand", "wegdeel"), area=area))
    inside = bgt[bgt["laag"].isin(["pand", "wegdeel"]) & bgt.intersects(box(*area.bbox))]
    assert sorted(near["identificatie"]) == sorted(inside["identificatie"])


def test_single_file_and_folder(tmp_path, bgt):
    with zipfile.ZipFile(BGT_ZIP) as zf:
        zf.extract("bgt_waterdeel.gml", tmp_path)
        zf.extract("bgt_mast.gml", tmp_path)  # a layer file without features
    one = collect(read_bgt(tmp_path / "bgt_waterdeel.gml"))
    assert len(one) == (bgt["laag"] == "waterdeel").sum()
    folder = collect(read_bgt(tmp_path, layers=("waterdeel", "pand")))  # pand missing: skipped
    assert set(folder["laag"]) == {"waterdeel"}
    assert list(read_bgt(tmp_path / "bgt_mast.gml", layers=("mast",))) == []


GML_LIGHT = """<?xml version="1.0" encoding="UTF-8"?>
<gml:FeatureCollection xmlns:imgeo-s="http://www.geostandaarden.nl/imgeo/2.1/simple/gml31"
    xmlns:gml="http://www.opengis.net/gml">
<gml:featureMember><imgeo-s:Wegdeel gml:id="b1">
  <imgeo-s:identificatie.lokaalID>G0363.aaa</imgeo-s:identificatie.lokaalID>
  <imgeo-s:bgt-status>bestaand</imgeo-s:bgt-status>
  <imgeo-s:bgt-functie>voetpad</imgeo-s:bgt-functie>
  <imgeo-s:bgt-fysiekVoorkomen>open verharding</imgeo-s:bgt-fysiekVoorkomen>
  <imgeo-s:geometrie2d><gml:Polygon srsName="urn:ogc:def:crs:EPSG::28992"><gml:exterior><gml:Ring>
    <gml:curveMember><gml:Curve><gml:segments>
      <gml:LineStringSegment><gml:posList>120000 480000 120010 480000 120010 480010</gml:posList></gml:LineStringSegment>
      <gml:Arc><gml:posList>120010 480010 120005 480015 120000 480010</gml:posList></gml:Arc>
      <gml:LineStringSegment><gml:posList>120000 480010 120000 480000</gml:posList></gml:LineStringSegment>
    </gml:segments></gml:Curve></gml:curveMember></gml:Ring></gml:exterior></gml:Polygon></imgeo-s:geometrie2d>
</imgeo-s:Wegdeel></gml:featureMember>
<gml:featureMember><imgeo-s:Wegdeel gml:id="b2">
  <imgeo-s:identificatie.lokaalID>G0363.bbb</imgeo-s:identificatie.lokaalID>
  <imgeo-s:eindRegistratie>2020-01-01T00:00:00</imgeo-s:eindRegistratie>
  <imgeo-s:bgt-status>bestaand</imgeo-s:bgt-status>
  <imgeo-s:bgt-fysiekVoorkomen>gesloten verharding</imgeo-s:bgt-fysiekVoorkomen>
  <imgeo-s:geometrie2d><gml:Polygon srsName="urn:ogc:def:crs:EPSG::28992"><gml:exterior><gml:LinearRing>
    <gml:posList>120000 480000 120010 480000 120010 480010 120000 480000</gml:posList>
  </gml:LinearRing></gml:exterior></gml:Polygon></imgeo-s:geometrie2d>
</imgeo-s:Wegdeel></gml:featureMember>
</gml:FeatureCollection>
"""


def test_gml_light_encoding_with_arcs(tmp_path):
    path = tmp_path / "bgt_wegdeel.gml"
    path.write_text(GML_LIGHT, "utf-8")
    got = collect(read_bgt(path))
    assert list(got["identificatie"]) == ["G0363.aaa"]  # G0363.bbb is historic
    assert list(got["klasse"]) == ["open verharding"]
    # a 10 x 10 square topped by a half circle of radius 5, arc linearised
    assert got.geometry.iloc[0].area == pytest.approx(100 + 3.14159 * 25 / 2, rel=0.01)


def _error(path, **kw) -> str:
    with pytest.raises(SourceError) as err:
        list(read_bgt(path, **kw))
    assert str(path) in str(err.value), "the message must name the file"
    return err.value.problem


def test_bad_input(tmp_path):
    assert "not found" in _error(tmp_path / "nope.zip")
    (tmp_path / "empty.zip").write_bytes(b"")
    assert "empty" in _error(tmp_path / "empty.zip")
    csv = tmp_path / "bgt.csv"
    csv.write_text("identificatie,laag,klasse\nx,waterdeel,waterloop\n")
    assert "CSV" in _error(csv)
    cut = tmp_path / "cut.zip"
    cut.write_bytes(BGT_ZIP.read_bytes()[:100_000])
    assert "zip" in _error(cut)
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("readme.txt", "no BGT here")
    assert "BGT layers" in _error(other)
    with zipfile.ZipFile(BGT_ZIP) as zf:
        data = zf.read("bgt_waterdeel.gml")
    half = tmp_path / "bgt_waterdeel.gml"
    half.write_bytes(data[: len(data) // 2])
    assert "truncated" in _error(half)
    notbgt = tmp_path / "bgt_wegdeel.gml"
    notbgt.write_text('<?xml version="1.0"?><root><item>1</item></root>')
    assert "BGT" in _error(notbgt)
