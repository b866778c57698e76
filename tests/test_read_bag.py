"""Tests for sources/bag_read.py on the real LVBAG fixtures and small PDOK-style GeoPackages (no database)."""
from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import defusedxml.ElementTree as ET
import geopandas as gpd
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, box

from plekzoeker.area import Area
from plekzoeker.errors import SourceError
from plekzoeker.sources.bag_read import (
    PAND_COLUMNS,
    VBO_COLUMNS,
    read_bag_pand,
    read_bag_verblijfsobject,
)

LVBAG = Path(__file__).resolve().parent / "data" / "lvbag"
PND_XML = LVBAG / "0221PND15092020-000001.xml"
VBO_XML = LVBAG / "0221VBO15092020-000001.xml"
NATIONAL_ZIP = LVBAG / "BAGNLDL-15092020-small.zip"

OBJ = "www.kadaster.nl/schemas/lvbag/imbag/objecten/v20200601"
HIST = "www.kadaster.nl/schemas/lvbag/imbag/historie/v20200601"
REF = "www.kadaster.nl/schemas/lvbag/imbag/objecten-ref/v20200601"


# --------------------------------------------------------------------------- independent XML reading

def xml_versions(path: Path, tag: str) -> list[dict]:
    """Every voorkomen of every ``Objecten:<tag>`` in an LVBAG XML, read with ElementTree."""
    out = []
    for obj in ET.parse(str(path)).getroot().iter(f"{{{OBJ}}}{tag}"):
        fields = {child.tag.split("}")[1]: child for child in obj}
        out.append({
            "id": fields["identificatie"].text,
            "voorkomen": int(obj.find(f".//{{{HIST}}}voorkomenidentificatie").text),
            "ended": obj.find(f".//{{{HIST}}}eindGeldigheid") is not None,
            "begin": obj.find(f".//{{{HIST}}}beginGeldigheid").text,
            "fields": {k: (v.text or "").strip() for k, v in fields.items()},
            "refs": [r.text for r in obj.iter() if r.tag.startswith(f"{{{REF}}}")],
            "elem": obj,
        })
    return out


def xml_current(path: Path, tag: str) -> dict[str, dict]:
    """id -> current version (no eindGeldigheid; else the latest voorkomen)."""
    best: dict[str, dict] = {}
    for v in xml_versions(path, tag):
        cur = best.get(v["id"])
        rank = (not v["ended"], v["voorkomen"])
        if cur is None or rank > (not cur["ended"], cur["voorkomen"]):
            best[v["id"]] = v
    return best


def collect(chunks) -> gpd.GeoDataFrame:
    chunks = list(chunks)
    assert chunks, "reader yielded nothing"
    for c in chunks:
        assert isinstance(c, gpd.GeoDataFrame)
        assert c.crs.to_epsg() == 28992
        assert c.geometry.name == "geometry"
    return pd.concat(chunks, ignore_index=True)


# --------------------------------------------------------------------------- LVBAG: pand

@pytest.fixture(scope="module")
def pand_xml() -> gpd.GeoDataFrame:
    return collect(read_bag_pand(PND_XML))


def test_lvbag_pand_current_versions(pand_xml):
    expected = xml_current(PND_XML, "Pand")
    assert len(xml_versions(PND_XML, "Pand")) == 6  # the fixture holds historic versions
    assert list(pand_xml.columns) == PAND_COLUMNS
    assert sorted(pand_xml["identificatie"]) == sorted(expected) == ["0221100000311191", "0221100000312938"]
    assert pand_xml["identificatie"].str.fullmatch(r"\d{16}").all()
    assert str(pand_xml["bouwjaar"].dtype) == "Int64"
    for _, row in pand_xml.iterrows():
        cur = expected[row["identificatie"]]["fields"]
        assert row["status"] == cur["status"]
        assert row["bouwjaar"] == int(cur["oorspronkelijkBouwjaar"])
        assert row["documentdatum"] == pd.Timestamp(cur["documentdatum"])
        assert row["begingeldigheid"] == pd.Timestamp(expected[row["identificatie"]]["begin"])
    assert not shapely.has_z(pand_xml.geometry.array).any()
    assert set(pand_xml.geometry.geom_type) <= {"Polygon", "MultiPolygon"}


def test_lvbag_known_building_lands_in_doesburg(pand_xml):
    row = pand_xml.set_index("identificatie").loc["0221100000312938"]
    assert row["bouwjaar"] == 1585  # the current voorkomen (the first one said 9999)
    assert row.geometry.distance(Point(206340, 447530)) < 15
    c = row.geometry.centroid
    assert abs(c.x - 206340) < 30 and abs(c.y - 447530) < 30


@pytest.mark.parametrize("source", [LVBAG, NATIONAL_ZIP, VBO_XML], ids=["folder", "zip-of-zips", "sibling-file"])
def test_lvbag_delivery_forms_agree(source, pand_xml):
    other = collect(read_bag_pand(source)).sort_values("identificatie").reset_index(drop=True)
    ref = pand_xml.sort_values("identificatie").reset_index(drop=True)
    pd.testing.assert_frame_equal(pd.DataFrame(other.drop(columns="geometry")),
                                  pd.DataFrame(ref.drop(columns="geometry")))
    assert all(a.equals(b) for a, b in zip(other.geometry, ref.geometry))


def _rewrite_blocks(text: str, fn) -> str:
    """Apply fn to the list of <sl:stand> blocks of an LVBAG XML."""
    first = text.index("<sl:stand>")
    last = text.rindex("</sl:stand>") + len("</sl:stand>")
    blocks = re.findall(r"<sl:stand>.*?</sl:stand>", text[first:last], flags=re.S)
    return text[:first] + "\n".join(fn(blocks)) + text[last:]


def test_lvbag_versions_out_of_order_and_across_chunks(tmp_path, pand_xml):
    path = tmp_path / PND_XML.name
    path.write_text(_rewrite_blocks(PND_XML.read_text("utf-8"), lambda b: b[::-1]), "utf-8")
    for chunk_size in (1, 2, 100):
        got = collect(read_bag_pand(path, chunk_size=chunk_size))
        assert sorted(got["identificatie"]) == sorted(pand_xml["identificatie"])
        assert dict(zip(got["identificatie"], got["bouwjaar"])) == dict(zip(pand_xml["identificatie"],
                                                                              pand_xml["bouwjaar"]))


def test_lvbag_object_without_open_version_keeps_latest_and_9999_is_none(tmp_path):
    text = PND_XML.read_text("utf-8")
    # close the current voorkomen of 0221100000311191 and make its bouwjaar unknown
    text = text.replace(
        "<Historie:voorkomenidentificatie>2</Historie:voorkomenidentificatie>\n"
        "                            <Historie:beginGeldigheid>2011-09-06</Historie:beginGeldigheid>",
        "<Historie:voorkomenidentificatie>2</Historie:voorkomenidentificatie>\n"
        "                            <Historie:beginGeldigheid>2011-09-06</Historie:beginGeldigheid>\n"
        "                            <Historie:eindGeldigheid>2020-01-01</Historie:eindGeldigheid>", 1)
    text = text.replace("<Objecten:oorspronkelijkBouwjaar>1992<", "<Objecten:oorspronkelijkBouwjaar>9999<")
    path = tmp_path / PND_XML.name
    path.write_text(text, "utf-8")
    assert xml_current(path, "Pand")["0221100000311191"]["ended"]  # no open version left
    got = collect(read_bag_pand(path, chunk_size=1)).set_index("identificatie")
    assert sorted(got.index) == ["0221100000311191", "0221100000312938"]
    assert got.index.is_unique
    assert pd.isna(got.loc["0221100000311191", "bouwjaar"])
    assert got.loc["0221100000311191", "begingeldigheid"] == pd.Timestamp("2011-09-06")  # voorkomen 2


def test_lvbag_area_filters(pand_xml):
    assert len(collect(read_bag_pand(NATIONAL_ZIP, area=Area(municipality="GM0221")))) == len(pand_xml)
    assert list(read_bag_pand(NATIONAL_ZIP, area=Area(municipality="0363"))) == []
    near = collect(read_bag_pand(LVBAG, area=Area(bbox=(206300, 447500, 206400, 447560))))
    assert list(near["identificatie"]) == ["0221100000312938"]
    poly = collect(read_bag_pand(PND_XML, area=Area(polygon=Point(206290, 447360).buffer(20))))
    assert list(poly["identificatie"]) == ["0221100000311191"]


# --------------------------------------------------------------------------- LVBAG: verblijfsobject

def test_lvbag_vbo_with_addresses():
    got = collect(read_bag_verblijfsobject(NATIONAL_ZIP, chunk_size=2))
    assert list(got.columns) == VBO_COLUMNS
    expected = xml_current(VBO_XML, "Verblijfsobject")
    assert sorted(got["identificatie"]) == sorted(expected)
    assert got["identificatie"].str.fullmatch(r"\d{16}").all()
    assert set(got.geometry.geom_type) == {"Point"}

    num = xml_current(LVBAG / "0221NUM15092020-000001.xml", "Nummeraanduiding")
    opr = xml_current(LVBAG / "0221OPR15092020-000001.xml", "OpenbareRuimte")
    wpl = xml_current(LVBAG / "0221WPL15092020-000001.xml", "Woonplaats")
    for _, row in got.iterrows():
        cur = expected[row["identificatie"]]
        assert row["pand_ids"] == [r.text for r in cur["elem"].iter(f"{{{REF}}}PandRef")]
        doelen = [e.text for e in cur["elem"].iter(f"{{{OBJ}}}gebruiksdoel")]
        assert row["gebruiksdoelen"] == doelen
        assert row["oppervlakte"] == int(cur["fields"]["oppervlakte"])
        assert row["status"] == cur["fields"]["status"]
        # address: hoofdadres -> NUM -> OPR -> WPL
        hoofd = cur["elem"].find(f"{{{OBJ}}}heeftAlsHoofdadres")
        n = num[hoofd.find(f".//{{{REF}}}NummeraanduidingRef").text]
        assert row["huisnummer"] == int(n["fields"]["huisnummer"])
        assert (None if pd.isna(row["huisletter"]) else row["huisletter"]) == (n["fields"].get("huisletter") or None)
        assert (None if pd.isna(row["postcode"]) else row["postcode"]) == (n["fields"].get("postcode") or None)
        street = opr[n["refs"][0]]
        assert row["openbare_ruimte"] == street["fields"]["naam"]
        assert row["woonplaats"] == wpl[street["refs"][0]]["fields"]["naam"]

    one = got.set_index("identificatie").loc["0221010000330226"]
    assert (one["huisnummer"], one["postcode"], one["woonplaats"]) == (4, "6981CH", "Doesburg")
    assert one["status"] == "Verbouwing verblijfsobject" and one["oppervlakte"] == 223  # voorkomen 4 of 4
    assert one["pand_ids"] == ["0221100000312938"]


def test_lvbag_vbo_single_file_and_folder_agree():
    a = collect(read_bag_verblijfsobject(VBO_XML)).sort_values("identificatie").reset_index(drop=True)
    b = collect(read_bag_verblijfsobject(LVBAG)).sort_values("identificatie").reset_index(drop=True)
    pd.testing.assert_frame_equal(pd.DataFrame(a.drop(columns="geometry")), pd.DataFrame(b.drop(columns="geometry")))


def test_lvbag_vbo_without_address_files(tmp_path):
    shutil.copy(VBO_XML, tmp_path / VBO_XML.name)
    got = collect(read_bag_verblijfsobject(tmp_path / VBO_XML.name))
    assert len(got) == 2
    assert got["postcode"].isna().all() and got["huisnummer"].isna().all()


# --------------------------------------------------------------------------- GeoPackage (PDOK bag-light)

PAND_ROWS = [
    # identificatie, bouwjaar, status, geometry
    ("0221100000312938", 1585, "Pand in gebruik", box(206330, 447520, 206350, 447540)),
    ("0221100000311191", 9999, "Pand buiten gebruik", box(206280, 447350, 206300, 447370)),
    ("0363100012345678", 1930, "Verbouwing pand", box(121000, 487000, 121020, 487030)),
]


def write_bag_gpkg(path: Path, crs="EPSG:28992", dates: bool = False) -> Path:
    n = len(PAND_ROWS)
    pand = gpd.GeoDataFrame({
        "identificatie": [r[0] for r in PAND_ROWS], "bouwjaar": [r[1] for r in PAND_ROWS],
        "status": [r[2] for r in PAND_ROWS], "gebruiksdoel": ["woonfunctie"] * n,
        "oppervlakte_min": [10] * n, "oppervlakte_max": [100] * n, "aantal_verblijfsobjecten": [1] * n,
        "rdf_seealso": [f"http://bag.basisregistraties.overheid.nl/bag/id/pand/{r[0]}" for r in PAND_ROWS],
    }, geometry=[r[3] for r in PAND_ROWS], crs="EPSG:28992")
    if dates:
        pand["documentdatum"] = ["2015-11-23", "2011-09-06", None]
        pand["begingeldigheid"] = pd.to_datetime(["2015-11-24", "2011-09-07", "2020-01-01"])
    vbo = gpd.GeoDataFrame({
        "identificatie": ["0221010000330226", "0221010000330999", "0221010000330999", "0363010000000001"],
        "openbare_ruimte_naam": ["Kosterstraat", "Sbn Doormansingel", "Sbn Doormansingel", "Damrak"],
        "huisnummer": [4, 9, 9, 1], "huisletter": [None, "l", "l", None], "toevoeging": [None, None, None, "2"],
        "postcode": ["6981CH", "6981EA", "6981EA", "1012 lg"],
        "woonplaats_naam": ["Doesburg", "Doesburg", "Doesburg", "Amsterdam"], "bouwjaar": [1585, 1992, 1992, 1930],
        "pand_identificatie": ["0221100000312938", "0221100000311191", "0221100000312938", "0363100012345678"],
        "pandstatus": ["Pand in gebruik"] * 4, "status": ["Verblijfsobject in gebruik"] * 4,
        "gebruiksdoel": ["woonfunctie", "kantoorfunctie,winkelfunctie", "kantoorfunctie,winkelfunctie", ""],
        "oppervlakte": [223, 650, 650, 40], "rdf_seealso": ["x"] * 4,
    }, geometry=[Point(206335, 447529), Point(206289, 447359), Point(206289, 447359), Point(121010, 487010)],
        crs="EPSG:28992")
    pand.to_crs(crs).to_file(path, layer="pand", driver="GPKG")
    vbo.to_crs(crs).to_file(path, layer="verblijfsobject", driver="GPKG")
    return path


@pytest.fixture(scope="module")
def bag_gpkg(tmp_path_factory) -> Path:
    return write_bag_gpkg(tmp_path_factory.mktemp("gpkg") / "bag-light.gpkg", dates=True)


def test_gpkg_pand_mapping(bag_gpkg):
    got = collect(read_bag_pand(bag_gpkg)).set_index("identificatie")
    assert list(got.reset_index().columns) == PAND_COLUMNS
    assert sorted(got.index) == sorted(r[0] for r in PAND_ROWS)
    assert got.loc["0221100000312938", "bouwjaar"] == 1585
    assert pd.isna(got.loc["0221100000311191", "bouwjaar"])  # 9999
    assert got.loc["0221100000311191", "status"] == "Pand buiten gebruik"
    assert got.loc["0221100000312938", "documentdatum"] == pd.Timestamp("2015-11-23")
    assert got.loc["0221100000312938", "begingeldigheid"] == pd.Timestamp("2015-11-24")
    assert pd.isna(got.loc["0363100012345678", "documentdatum"])
    assert got.loc["0221100000312938"].geometry.equals(PAND_ROWS[0][3])


def test_gpkg_without_date_columns(tmp_path):
    got = collect(read_bag_pand(write_bag_gpkg(tmp_path / "bag.gpkg")))
    assert got["documentdatum"].isna().all() and got["begingeldigheid"].isna().all()


def test_gpkg_vbo_mapping_and_chunking(bag_gpkg):
    full = collect(read_bag_verblijfsobject(bag_gpkg))
    assert list(full.columns) == VBO_COLUMNS
    got = full.set_index("identificatie")
    assert got.index.is_unique and len(got) == 3
    office = got.loc["0221010000330999"]
    assert office["gebruiksdoelen"] == ["kantoorfunctie", "winkelfunctie"]
    assert sorted(office["pand_ids"]) == ["0221100000311191", "0221100000312938"]  # two rows merged
    assert (office["openbare_ruimte"], office["huisnummer"], office["huisletter"], office["postcode"],
            office["woonplaats"]) == ("Sbn Doormansingel", 9, "l", "6981EA", "Doesburg")
    assert office["oppervlakte"] == 650
    assert pd.isna(got.loc["0221010000330226", "huisletter"])
    assert got.loc["0363010000000001", "gebruiksdoelen"] == []
    assert got.loc["0363010000000001", "postcode"] == "1012LG"
    assert got.loc["0363010000000001", "toevoeging"] == "2"
    for chunk_size in (1, 2):
        chunks = list(read_bag_verblijfsobject(bag_gpkg, chunk_size=chunk_size))
        assert all(len(c) <= 2 for c in chunks)
        again = pd.concat(chunks, ignore_index=True).set_index("identificatie")
        assert again.index.is_unique and sorted(again.index) == sorted(got.index)
        assert sorted(again.loc["0221010000330999", "pand_ids"]) == sorted(office["pand_ids"])


def test_gpkg_streams_in_chunks(bag_gpkg):
    chunks = list(read_bag_pand(bag_gpkg, chunk_size=1))
    assert len(chunks) == 3 and all(len(c) == 1 for c in chunks)


def test_gpkg_area_filters(bag_gpkg):
    doesburg = collect(read_bag_pand(bag_gpkg, area=Area(municipality="GM0221")))
    assert sorted(doesburg["identificatie"]) == ["0221100000311191", "0221100000312938"]
    vbo = collect(read_bag_verblijfsobject(bag_gpkg, area=Area(municipality="0363")))
    assert list(vbo["identificatie"]) == ["0363010000000001"]
    boxed = collect(read_bag_pand(bag_gpkg, area=Area(bbox=(206000, 447000, 206320, 447400))))
    assert list(boxed["identificatie"]) == ["0221100000311191"]
    poly = collect(read_bag_pand(bag_gpkg, area=Area(polygon=Point(206340, 447530).buffer(5))))
    assert list(poly["identificatie"]) == ["0221100000312938"]


def test_gpkg_in_wgs84_is_reprojected(tmp_path):
    path = write_bag_gpkg(tmp_path / "bag4326.gpkg", crs="EPSG:4326")
    got = collect(read_bag_pand(path)).set_index("identificatie")
    assert got.crs.to_epsg() == 28992
    for ident, _, _, geom in PAND_ROWS:
        assert got.loc[ident].geometry.hausdorff_distance(geom) < 0.01
    near = collect(read_bag_verblijfsobject(path, area=Area(bbox=(206280, 447520, 206400, 447560))))
    assert list(near["identificatie"]) == ["0221010000330226"]
    assert near.geometry.iloc[0].distance(Point(206335, 447529)) < 0.01


# --------------------------------------------------------------------------- bad input

def _error(reader, path, **kw) -> str:
    with pytest.raises(SourceError) as err:
        list(reader(path, **kw))
    assert str(path) in str(err.value), "the message must name the file"
    return err.value.problem


@pytest.mark.parametrize("reader", [read_bag_pand, read_bag_verblijfsobject])
def test_missing_and_empty_file(tmp_path, reader):
    assert "not found" in _error(reader, tmp_path / "nope.gpkg")
    (tmp_path / "empty.gpkg").write_bytes(b"")
    assert "empty" in _error(reader, tmp_path / "empty.gpkg")


@pytest.mark.parametrize("reader", [read_bag_pand, read_bag_verblijfsobject])
def test_csv_passed_as_bag(tmp_path, reader):
    csv = tmp_path / "bag.csv"
    csv.write_text("identificatie,status,bouwjaar\n0221100000312938,Pand in gebruik,1585\n")
    assert "CSV" in _error(reader, csv)


@pytest.mark.parametrize("reader", [read_bag_pand, read_bag_verblijfsobject])
def test_truncated_gpkg(tmp_path, reader):
    good = write_bag_gpkg(tmp_path / "good.gpkg")
    data = good.read_bytes()
    cut = tmp_path / "cut.gpkg"
    cut.write_bytes(data[: len(data) // 2])
    assert "truncated" in _error(reader, cut)
    garbage = tmp_path / "garbage.gpkg"
    garbage.write_bytes(data[:100] + b"\x00" * 4096)
    _error(reader, garbage)


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_gpkg_without_crs(tmp_path):
    path = tmp_path / "nocrs.gpkg"
    gpd.GeoDataFrame({"identificatie": ["0221100000312938"], "status": ["Pand in gebruik"], "bouwjaar": [1585]},
                     geometry=[box(0, 0, 1, 1)]).to_file(path, layer="pand", driver="GPKG")
    assert "coordinate reference system" in _error(read_bag_pand, path)


def test_gpkg_missing_columns_and_layers(tmp_path):
    path = tmp_path / "nocol.gpkg"
    gpd.GeoDataFrame({"identificatie": ["0221100000312938"], "status": ["Pand in gebruik"]},
                     geometry=[box(0, 0, 1, 1)], crs="EPSG:28992").to_file(path, layer="pand", driver="GPKG")
    assert "bouwjaar" in _error(read_bag_pand, path)
    assert "verblijfsobject" in _error(read_bag_verblijfsobject, path)


def test_truncated_lvbag_xml_and_zip(tmp_path):
    cut = tmp_path / PND_XML.name
    cut.write_bytes(PND_XML.read_bytes()[:5000])
    assert "truncated" in _error(read_bag_pand, cut)
    zcut = tmp_path / NATIONAL_ZIP.name
    zcut.write_bytes(NATIONAL_ZIP.read_bytes()[:3000])  # exposes the stored inner zip's directory
    assert "zip" in _error(read_bag_pand, zcut)
    zcut.write_bytes(NATIONAL_ZIP.read_bytes()[:-100])
    assert "zip" in _error(read_bag_verblijfsobject, zcut)


def test_wrong_kind_of_xml_and_zip(tmp_path):
    brk = LVBAG.parent / "brk" / "kadastralekaart_perceel.gml"
    assert "LVBAG" in _error(read_bag_pand, brk)
    z = tmp_path / "other.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("readme.txt", "hello")
    assert "Pand" in _error(read_bag_pand, z)
    # a PND file alone cannot give verblijfsobjecten
    only = tmp_path / "only"
    only.mkdir()
    shutil.copy(PND_XML, only / PND_XML.name)
    assert "Verblijfsobject" in _error(read_bag_verblijfsobject, only / PND_XML.name)


def test_chunk_size_must_be_positive():
    with pytest.raises(ValueError):
        list(read_bag_pand(PND_XML, chunk_size=0))


def test_inner_zip_fallback_extracts_and_cleans_up(tmp_path, monkeypatch, pand_xml):
    """When GDAL cannot open a /vsizip//vsizip/ chain, the inner zip is extracted and removed again."""
    import tempfile

    import pyogrio


    real = pyogrio.list_layers

    def no_chains(path, *a, **kw):
        if str(path).startswith("/vsizip//vsizip/"):
            raise pyogrio.errors.DataSourceError("nested zip not supported here")
        return real(path, *a, **kw)

    monkeypatch.setattr(pyogrio, "list_layers", no_chains)  # the LVBAG reader calls pyogrio.list_layers
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    got = collect(read_bag_pand(NATIONAL_ZIP))
    assert sorted(got["identificatie"]) == sorted(pand_xml["identificatie"])
    vbo = collect(read_bag_verblijfsobject(NATIONAL_ZIP))
    assert vbo["postcode"].notna().any()
    assert list(tmp_path.iterdir()) == []


def test_gpkg_integer_ids_and_missing_address_columns(tmp_path):
    """Identifiers stored as integers lose their leading zeros; address columns are optional."""
    path = tmp_path / "ints.gpkg"
    gpd.GeoDataFrame({"identificatie": [221010000330226, 363010000000001], "status": ["Verblijfsobject in gebruik"] * 2,
                      "gebruiksdoel": ["woonfunctie", "kantoorfunctie"], "oppervlakte": [50, 800],
                      "pand_identificatie": ["NL.IMBAG.Pand.0221100000312938", "0363100012345678"]},
                     geometry=[Point(206335, 447529), Point(121010, 487010)], crs="EPSG:28992"
                     ).to_file(path, layer="verblijfsobject", driver="GPKG")
    got = collect(read_bag_verblijfsobject(path))
    assert list(got["identificatie"]) == ["0221010000330226", "0363010000000001"]
    assert list(got["pand_ids"]) == [["0221100000312938"], ["0363100012345678"]]
    assert got[["openbare_ruimte", "postcode", "woonplaats", "huisletter", "toevoeging"]].isna().all().all()
    assert got["huisnummer"].isna().all()
    only = collect(read_bag_verblijfsobject(path, area=Area(municipality="GM0221")))
    assert list(only["identificatie"]) == ["0221010000330226"]
