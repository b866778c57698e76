"""Tests for sources/brk_read.py on the real Otterlo kadastrale kaart GML and small GeoPackages (no database)."""
from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import defusedxml.ElementTree as ET
import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from plekzoeker.area import Area
from plekzoeker.errors import SourceError
from plekzoeker.sources.brk_read import PERCEEL_COLUMNS, read_perceel

BRK = Path(__file__).resolve().parent / "data" / "brk"
PERCEEL_GML = BRK / "kadastralekaart_perceel.gml"
OZ = "http://www.kadaster.nl/schemas/brkkadastralekaart/v5/imkad-onroerendezaak/v20220601"
KO = "http://www.kadaster.nl/schemas/brkkadastralekaart/v5/imkad-kadastraalobject/v20220601"
T = "http://www.kadaster.nl/schemas/brkkadastralekaart/v5/imkad-typen/v20220601"


def xml_parcels(path: Path) -> dict[str, dict]:
    """identificatie -> aanduiding and grootte, read from the GML with ElementTree."""
    out = {}
    for p in ET.parse(str(path)).getroot().iter(f"{{{OZ}}}Perceel"):
        akr = p.find(f".//{{{OZ}}}AKRKadastraleGemeenteCode/{{{T}}}waarde").text
        out[p.find(f"{{{KO}}}identificatie").text] = {
            "aanduiding": f"{akr} {p.find(f'.//{{{OZ}}}sectie').text} {p.find(f'.//{{{OZ}}}perceelnummer').text}",
            "gemeente": p.find(f".//{{{OZ}}}KadastraleGemeente/{{{T}}}waarde").text,
            "grootte": int(p.find(f".//{{{OZ}}}kadastraleGrootte//{{{OZ}}}waarde").text),
        }
    return out


def collect(chunks) -> gpd.GeoDataFrame:
    chunks = list(chunks)
    assert chunks, "reader yielded nothing"
    for c in chunks:
        assert isinstance(c, gpd.GeoDataFrame) and c.crs.to_epsg() == 28992
        assert list(c.columns) == PERCEEL_COLUMNS
    return pd.concat(chunks, ignore_index=True)


@pytest.fixture(scope="module")
def parcels() -> gpd.GeoDataFrame:
    return collect(read_perceel(PERCEEL_GML))


def test_gml_parcels_match_the_file(parcels):
    expected = xml_parcels(PERCEEL_GML)
    assert len(expected) == 11
    assert sorted(parcels["identificatie"]) == sorted(expected)
    assert parcels["identificatie"].str.fullmatch(r"\d+").all()
    for _, row in parcels.iterrows():
        e = expected[row["identificatie"]]
        assert row["kadastrale_aanduiding"] == e["aanduiding"]
        assert row["kadastrale_gemeente"] == e["gemeente"]
        assert row["kadastrale_grootte"] == e["grootte"]
    assert parcels["kadastrale_aanduiding"].str.fullmatch(r"[A-Z]{3}\d{2} [A-Z]{1,2} \d+").all()
    assert str(parcels["perceelnummer"].dtype) == "Int64" and str(parcels["kadastrale_grootte"].dtype) == "Int64"


def test_gml_uses_the_parcel_polygon_not_the_label_point(parcels):
    assert set(parcels.geometry.geom_type) <= {"Polygon", "MultiPolygon"}
    assert parcels.geometry.is_valid.all()
    one = parcels.set_index("kadastrale_aanduiding").loc["OTL02 B 2298"]
    assert (one["kadastrale_gemeente_code"], one["sectie"], one["perceelnummer"]) == ("OTL02", "B", 2298)
    assert one["kadastrale_grootte"] == 222
    assert one.geometry.contains(Point(181195, 456710))
    # the registered size and the drawn polygon agree roughly (the label point has no area at all)
    assert abs(one.geometry.area - 222) / 222 < 0.1


def test_gml_reading_writes_nothing_beside_the_data(tmp_path, parcels):
    gml = tmp_path / PERCEEL_GML.name
    shutil.copy(PERCEEL_GML, gml)  # without the stray .gfs of the fixture folder
    got = collect(read_perceel(gml, chunk_size=3))
    assert sorted(got["identificatie"]) == sorted(parcels["identificatie"])
    assert [p.name for p in tmp_path.iterdir()] == [gml.name]


def test_gml_in_zip_and_folder(tmp_path, parcels):
    z = tmp_path / "kadastralekaart-gml.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(PERCEEL_GML, f"kadastralekaart/{PERCEEL_GML.name}")
        zf.write(BRK / "kadastralekaart_pand.gml", "kadastralekaart/kadastralekaart_pand.gml")
    assert sorted(collect(read_perceel(z))["identificatie"]) == sorted(parcels["identificatie"])
    assert len(collect(read_perceel(BRK))) == len(parcels)


def test_gml_area_filter(parcels):
    area = Area(bbox=(181150, 456600, 181300, 456800))
    got = collect(read_perceel(PERCEEL_GML, area=area))
    assert 0 < len(got) < len(parcels)
    assert got.intersects(box(*area.bbox)).all()
    outside = parcels[~parcels.intersects(box(*area.bbox))]
    assert not set(outside["identificatie"]) & set(got["identificatie"])
    poly = collect(read_perceel(PERCEEL_GML, area=Area(polygon=Point(181195, 456710).buffer(1))))
    assert "OTL02 B 2298" in set(poly["kadastrale_aanduiding"])
    # a municipality says nothing about parcels: no filtering
    assert len(collect(read_perceel(PERCEEL_GML, area=Area(municipality="GM0228")))) == len(parcels)


# --------------------------------------------------------------------------- GeoPackage

def write_perceel_gpkg(path: Path, style: str = "camel", crs="EPSG:28992") -> Path:
    geoms = [box(181180, 456700, 181210, 456720), box(181000, 456000, 181050, 456040)]
    if style == "camel":  # the demo town / PDOK camelCase names
        data = {"identificatie": ["84920229870000", "84920229970000"], "kadastraleGemeenteCode": ["OTL02", "OTL02"],
                "kadastraleGemeenteWaarde": ["Otterlo", "Otterlo"], "sectie": ["B", "B"],
                "perceelnummer": [2298, 2299], "kadastraleGrootteWaarde": [222, 2000]}
    else:  # snake_case with PDOK's separate AKR code and numeric gemeente code
        data = {"identificatie_namespace": ["NL.IMKAD.KadastraalObject"] * 2,
                "identificatie_lokaal_id": ["NL.IMKAD.KadastraalObject.84920229870000", "84920229970000"],
                "kadastrale_gemeente_code": [761, 761], "kadastrale_gemeente_waarde": ["Otterlo", "Otterlo"],
                "akr_kadastrale_gemeente_code_waarde": ["OTL02", "OTL02"], "sectie": ["B", "B"],
                "perceelnummer": [2298, 2299], "kadastrale_grootte_waarde": [222.0, 2000.0]}
    gpd.GeoDataFrame(data, geometry=geoms, crs="EPSG:28992").to_crs(crs).to_file(path, layer="perceel", driver="GPKG")
    return path


@pytest.mark.parametrize("style", ["camel", "snake"])
def test_gpkg_column_variants(tmp_path, style):
    got = collect(read_perceel(write_perceel_gpkg(tmp_path / "brk.gpkg", style)))
    one = got.set_index("identificatie").loc["84920229870000"]
    assert (one["kadastrale_gemeente_code"], one["kadastrale_gemeente"], one["sectie"], one["perceelnummer"],
            one["kadastrale_aanduiding"], one["kadastrale_grootte"]) == ("OTL02", "Otterlo", "B", 2298,
                                                                          "OTL02 B 2298", 222)
    assert one.geometry.contains(Point(181195, 456710))


def test_gpkg_wgs84_reprojected_and_filtered(tmp_path):
    path = write_perceel_gpkg(tmp_path / "brk4326.gpkg", crs="EPSG:4326")
    got = collect(read_perceel(path, area=Area(bbox=(181100, 456600, 181300, 456800))))
    assert list(got["kadastrale_aanduiding"]) == ["OTL02 B 2298"]
    assert got.geometry.iloc[0].hausdorff_distance(box(181180, 456700, 181210, 456720)) < 0.01


# --------------------------------------------------------------------------- bad input

def _error(path, **kw) -> str:
    with pytest.raises(SourceError) as err:
        list(read_perceel(path, **kw))
    assert str(path) in str(err.value), "the message must name the file"
    return err.value.problem


def test_bad_files(tmp_path):
    assert "not found" in _error(tmp_path / "nope.gml")
    (tmp_path / "empty.gml").write_bytes(b"")
    assert "empty" in _error(tmp_path / "empty.gml")
    csv = tmp_path / "percelen.csv"
    csv.write_text("kadastrale_aanduiding,owner_name\nOTL02 B 2298,Gemeente Ede\n")
    assert "CSV" in _error(csv)
    cut = tmp_path / "cut.gml"
    cut.write_bytes(PERCEEL_GML.read_bytes()[:6000])
    assert "truncated" in _error(cut)
    nosrs = tmp_path / "nosrs.gml"
    nosrs.write_text(PERCEEL_GML.read_text("utf-8").replace('srsName="urn:ogc:def:crs:EPSG::28992"', ""), "utf-8")
    assert "coordinate reference system" in _error(nosrs)
    assert "Perceel" in _error(BRK / "kadastralekaart_pand.gml")
    gpkg = write_perceel_gpkg(tmp_path / "brk.gpkg")
    cut_gpkg = tmp_path / "cut.gpkg"
    cut_gpkg.write_bytes(gpkg.read_bytes()[:20000])
    assert "truncated" in _error(cut_gpkg)
    z = tmp_path / "nothing.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("readme.txt", "no parcels here")
    assert "parcel" in _error(z)


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_gpkg_without_crs_or_columns(tmp_path):
    nocrs = tmp_path / "nocrs.gpkg"
    gpd.GeoDataFrame({"identificatie": ["1"], "kadastraleGemeenteCode": ["OTL02"], "sectie": ["B"],
                      "perceelnummer": [1]}, geometry=[box(0, 0, 1, 1)]).to_file(nocrs, layer="perceel", driver="GPKG")
    assert "coordinate reference system" in _error(nocrs)
    nocol = tmp_path / "nocol.gpkg"
    gpd.GeoDataFrame({"identificatie": ["1"], "sectie": ["B"]}, geometry=[box(0, 0, 1, 1)],
                     crs="EPSG:28992").to_file(nocol, layer="perceel", driver="GPKG")
    problem = _error(nocol)
    assert "perceelnummer" in problem
    other = tmp_path / "other.gpkg"
    gpd.GeoDataFrame({"x": [1]}, geometry=[box(0, 0, 1, 1)], crs="EPSG:28992").to_file(other, layer="pand")
    assert "perceel" in _error(other)
