"""The demo town generator (plekzoeker/demo/generate.py): formats, contracts and the planted truth.

No database. The default town comes from the session fixture ``demo_dir`` (conftest.py); the
determinism and scaling tests generate their own copies into tmp_path.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import re
from pathlib import Path

import networkx as nx
import numpy as np
import osmium
import pandas as pd
import pyogrio
import pytest
import rasterio
import shapely
from pyproj import Transformer

from plekzoeker.demo.generate import generate_town, main
from plekzoeker.sources.osm_read import read_osm

PAND_COLUMNS = ["identificatie", "bouwjaar", "status", "gebruiksdoel", "oppervlakte_min", "oppervlakte_max",
                "aantal_verblijfsobjecten", "rdf_seealso", "documentdatum"]
VBO_COLUMNS = ["identificatie", "openbare_ruimte_naam", "huisnummer", "huisletter", "toevoeging", "postcode",
               "woonplaats_naam", "bouwjaar", "pand_identificatie", "pandstatus", "status", "gebruiksdoel",
               "oppervlakte", "rdf_seealso", "documentdatum"]
PERCEEL_COLUMNS = ["identificatie", "kadastraleGemeenteCode", "kadastraleGemeenteWaarde", "sectie", "perceelnummer",
                   "kadastraleGrootteWaarde"]
CSV_HEADERS = {
    "vacancy.csv": ["verblijfsobject_id", "postcode", "huisnummer", "huisletter", "toevoeging", "vacant_since", "source"],
    "establishments.csv": ["verblijfsobject_id", "postcode", "huisnummer", "huisletter", "toevoeging", "kvk_nummer",
                           "active"],
    "energy.csv": ["verblijfsobject_id", "postcode", "huisnummer", "huisletter", "toevoeging", "kwh_per_m2"],
    "owners.csv": ["kadastrale_aanduiding", "verblijfsobject_id", "pand_id", "owner_name", "owner_kind"],
}
PAND_STATUSES = {"Bouwvergunning verleend", "Bouw gestart", "Pand in gebruik", "Pand in gebruik (niet ingemeten)",
                 "Verbouwing pand", "Pand buiten gebruik", "Sloopvergunning verleend", "Pand gesloopt",
                 "Niet gerealiseerd pand", "Pand ten onrechte opgevoerd"}
VBO_STATUSES = {"Verblijfsobject gevormd", "Verblijfsobject in gebruik", "Verblijfsobject in gebruik (niet ingemeten)",
                "Verbouwing verblijfsobject", "Verblijfsobject buiten gebruik", "Verblijfsobject ingetrokken",
                "Niet gerealiseerd verblijfsobject", "Verblijfsobject ten onrechte opgevoerd"}
DOELEN = {"woonfunctie", "bijeenkomstfunctie", "celfunctie", "gezondheidszorgfunctie", "industriefunctie",
          "kantoorfunctie", "logiesfunctie", "onderwijsfunctie", "sportfunctie", "winkelfunctie",
          "overige gebruiksfunctie"}
IN_USE = {"Pand in gebruik", "Pand in gebruik (niet ingemeten)"}
BUILT = IN_USE | {"Bouwvergunning verleend", "Bouw gestart", "Verbouwing pand", "Pand buiten gebruik",
                  "Sloopvergunning verleend"}


# ------------------------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def town(demo_dir) -> dict:
    d = Path(demo_dir)
    pand = pyogrio.read_dataframe(d / "bag.gpkg", layer="pand")
    vbo = pyogrio.read_dataframe(d / "bag.gpkg", layer="verblijfsobject")
    perceel = pyogrio.read_dataframe(d / "brk_percelen.gpkg", layer="perceel")
    perceel["aanduiding"] = (perceel["kadastraleGemeenteCode"] + " " + perceel["sectie"] + " "
                             + perceel["perceelnummer"].astype(str))
    csvs = {name: list(csv.DictReader((d / name).open(encoding="utf-8"))) for name in CSV_HEADERS}
    manifest = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
    return {"dir": d, "pand": pand, "vbo": vbo, "perceel": perceel, "csv": csvs, "m": manifest}


@pytest.fixture(scope="module")
def osm(demo_dir):
    return read_osm(Path(demo_dir) / "town.osm.pbf")


def _feature_data(d: Path) -> dict[str, pd.DataFrame]:
    out = {}
    for path, layer in (("bag.gpkg", "pand"), ("bag.gpkg", "verblijfsobject"), ("brk_percelen.gpkg", "perceel")):
        df = pyogrio.read_dataframe(d / path, layer=layer)
        df["wkb"] = shapely.to_wkb(df.geometry.values)
        out[layer] = pd.DataFrame(df.drop(columns="geometry"))
    return out


# ------------------------------------------------------------------------------------------------ formats
def test_files_open_and_layers_match_the_contract(town):
    d = town["dir"]
    for name in ("bag.gpkg", "brk_percelen.gpkg", "town.osm.pbf", "noise_lden.tif", "manifest.json", *CSV_HEADERS):
        assert (d / name).stat().st_size > 0, name
    assert sorted(pyogrio.list_layers(d / "bag.gpkg")[:, 0]) == ["pand", "verblijfsobject"]
    assert list(pyogrio.list_layers(d / "brk_percelen.gpkg")[:, 0]) == ["perceel"]
    for path, layer, cols, geom_name, geom_type in (
            ("bag.gpkg", "pand", PAND_COLUMNS, "geom", "Polygon"),
            ("bag.gpkg", "verblijfsobject", VBO_COLUMNS, "geom", "Point"),
            ("brk_percelen.gpkg", "perceel", PERCEEL_COLUMNS, "geometry", "Polygon")):
        info = pyogrio.read_info(d / path, layer=layer)
        assert list(info["fields"]) == cols, layer
        assert info["crs"] == "EPSG:28992"
        assert info["geometry_name"] == geom_name
        assert info["geometry_type"] == geom_type
        assert info["features"] == town["m"]["counts"][{"pand": "panden", "verblijfsobject": "verblijfsobjecten",
                                                         "perceel": "percelen"}[layer]]
    types = dict(zip(pyogrio.read_info(d / "bag.gpkg", layer="pand")["fields"],
                     pyogrio.read_info(d / "bag.gpkg", layer="pand")["ogr_types"]))
    assert types["documentdatum"] == "OFTDate" and types["bouwjaar"] == "OFTInteger"
    types = dict(zip(pyogrio.read_info(d / "bag.gpkg", layer="verblijfsobject")["fields"],
                     pyogrio.read_info(d / "bag.gpkg", layer="verblijfsobject")["ogr_types"]))
    assert types["documentdatum"] == "OFTDate" and types["huisnummer"] == "OFTInteger"
    for name, header in CSV_HEADERS.items():
        with (d / name).open(encoding="utf-8") as fh:
            assert next(csv.reader(fh)) == header, name
    n = sum(1 for _ in osmium.FileProcessor(str(d / "town.osm.pbf")))
    assert n == town["m"]["counts"]["osm_nodes"] + town["m"]["counts"]["osm_ways"]


def test_default_town_is_small_and_plausible(town):
    d, m, vbo, pand = town["dir"], town["m"], town["vbo"], town["pand"]
    assert sum(p.stat().st_size for p in d.iterdir()) < 5_000_000
    assert m["municipality"] == "GM9999"
    x0, y0, x1, y1 = m["bbox_rd"]
    assert 150000 <= x0 < x1 <= 153000 and 440000 <= y0 < y1 <= 443000
    woon = vbo[vbo["gebruiksdoel"] == "woonfunctie"]
    per_pand = woon.groupby("pand_identificatie").size()
    assert 300 <= (per_pand == 1).sum() <= 600            # houses
    assert (per_pand >= 6).sum() >= 5                    # apartment buildings with several units
    offices = pand[pand["gebruiksdoel"].fillna("").str.contains("kantoorfunctie")]
    assert 12 <= len(offices) <= 20
    units = vbo[vbo["pand_identificatie"].isin(offices["identificatie"])]
    assert units.groupby("pand_identificatie").size().between(1, 8).all()
    assert units["oppervlakte"].between(150, 2000).all()
    assert (units["gebruiksdoel"] == "kantoorfunctie,winkelfunctie").any()
    assert (vbo["gebruiksdoel"] == "winkelfunctie").sum() >= 3
    assert (vbo["gebruiksdoel"] == "onderwijsfunctie").sum() == 2
    assert (vbo["gebruiksdoel"] == "industriefunctie").sum() >= 3
    assert set(m["counts"]) >= {"panden", "verblijfsobjecten", "percelen", "streets"}


def test_identifiers_statuses_and_values(town):
    pand, vbo, per = town["pand"], town["vbo"], town["perceel"]
    for ids in (pand["identificatie"], vbo["identificatie"], vbo["pand_identificatie"], per["identificatie"]):
        assert ids.map(lambda s: isinstance(s, str) and re.fullmatch(r"9999\d{12}", s) is not None).all()
    assert pand["identificatie"].str[4:6].eq("10").all() and vbo["identificatie"].str[4:6].eq("01").all()
    assert pand["identificatie"].is_unique and vbo["identificatie"].is_unique and per["identificatie"].is_unique
    assert set(pand["status"]) <= PAND_STATUSES and set(vbo["status"]) <= VBO_STATUSES
    assert {d for ds in vbo["gebruiksdoel"] for d in ds.split(",")} <= DOELEN
    assert (pand["rdf_seealso"] == "http://bag.basisregistraties.overheid.nl/bag/id/pand/" + pand["identificatie"]).all()
    assert (vbo["rdf_seealso"] ==
            "http://bag.basisregistraties.overheid.nl/bag/id/verblijfsobject/" + vbo["identificatie"]).all()
    assert vbo["postcode"].str.fullmatch(r"9999[A-Z]{2}").all()
    address = (vbo["postcode"] + "|" + vbo["huisnummer"].astype(str) + "|" + vbo["huisletter"].fillna("") + "|"
               + vbo["toevoeging"].fillna(""))
    assert address.is_unique
    assert (vbo.groupby("postcode")["openbare_ruimte_naam"].nunique() == 1).all()
    assert vbo["woonplaats_naam"].eq("Demodorp").all()
    assert pd.to_datetime(vbo["documentdatum"]).le(pd.Timestamp("2025-06-01")).all()
    # the pand attributes summarise its units; each unit lies in its building
    by = vbo.groupby("pand_identificatie")["oppervlakte"]
    p = pand.set_index("identificatie")
    n = by.size().reindex(p.index, fill_value=0)
    assert (p["aantal_verblijfsobjecten"] == n).all()
    assert (p.loc[by.min().index, "oppervlakte_min"] == by.min()).all()
    assert (p.loc[by.max().index, "oppervlakte_max"] == by.max()).all()
    assert p.loc[n[n == 0].index, "oppervlakte_min"].isna().all()
    assert (vbo["pandstatus"].to_numpy() == p.loc[vbo["pand_identificatie"], "status"].to_numpy()).all()
    assert shapely.contains(p.loc[vbo["pand_identificatie"]].geometry.values, vbo.geometry.values).all()
    assert per["kadastraleGemeenteCode"].eq("DMD00").all() and per["kadastraleGemeenteWaarde"].eq("Demodorp").all()
    assert set(per["sectie"]) <= set("ABCDEF")
    assert (per["kadastraleGrootteWaarde"] == per.geometry.area.round().astype(int)).all()
    assert per["aanduiding"].is_unique


def test_geometries_valid_parcels_tile_without_overlap(town):
    pand, per = town["pand"], town["perceel"]
    assert shapely.is_valid(pand.geometry.values).all() and shapely.is_valid(per.geometry.values).all()
    assert (shapely.get_type_id(pand.geometry.values) == 3).all()
    assert (shapely.get_type_id(per.geometry.values) == 3).all()
    union = shapely.union_all(per.geometry.values)
    assert abs(union.area - per.geometry.area.sum()) < 0.1
    # every building lies inside one parcel
    tree = shapely.STRtree(per.geometry.values)
    idx = tree.query(pand.geometry.values, predicate="covered_by")
    assert len(np.unique(idx[0])) == len(pand)


def test_noise_raster(town):
    with rasterio.open(town["dir"] / "noise_lden.tif") as src:
        assert src.crs.to_epsg() == 28992
        assert src.res == (10.0, 10.0)
        assert src.dtypes[0] == "float32" and src.nodata == -9999
        a = src.read(1)
        x0, y0, x1, y1 = town["m"]["bbox_rd"]
        b = src.bounds
        assert b.left <= x0 - 300 and b.bottom <= y0 - 300 and b.right >= x1 + 300 and b.top >= y1 + 300
        assert 44.0 <= a.min() <= 48.0 and 69.0 <= a.max() <= 76.0
        # the Provincialeweg (y = 441700): about 70 dB at the road, decaying away from it
        row = lambda y: src.index(151500, y)[0]  # noqa: E731
        col = src.index(151500, 441700)[1]
        near, mid, far = a[row(441705), col], a[row(441755), col], a[row(441355), col]
        assert near > 68 and near > mid > far and far < 56


def test_osm_file(town, osm):
    d, m = town["dir"], town["m"]
    # ids, versions, timestamps
    ways, nodes = {}, {}
    for o in osmium.FileProcessor(str(d / "town.osm.pbf")):
        assert o.id > 0 and o.version == 1 and o.timestamp.year == 2025
        if o.is_node():
            nodes[o.id] = (o.location.lon, o.location.lat, dict(o.tags))
        elif o.is_way():
            ways[o.id] = ([n.ref for n in o.nodes], dict(o.tags))
    hw = [t for _, t in ways.values() if "highway" in t]
    assert {t["highway"] for t in hw} >= {"residential", "tertiary", "secondary", "footway", "cycleway", "service"}
    assert sum(t.get("oneway") == "yes" for t in hw) >= 2
    assert sum(t.get("access") == "private" for t in hw) == 1
    assert all("name" in t for t in hw if t["highway"] in ("residential", "tertiary", "secondary"))
    # a street graph in one piece, nodes shared at intersections
    G = nx.Graph()
    G.add_edges_from(zip(osm.edges.u, osm.edges.v))
    assert nx.is_connected(G)
    assert sum(1 for n in G.nodes if G.degree(n) >= 3) > 40
    # POIs as the reader sees them
    got = osm.pois["category"].value_counts().to_dict()
    assert got == {k: v for k, v in m["pois"].items() if v}
    assert got["supermarket"] == 2 and got["primary_school"] == 2 and got["park"] == 3 and got["train_station"] == 1
    assert got["gp"] == 1 and got["pharmacy"] == 1 and got["social_services"] >= 1 and got["stop"] >= 4
    sm = osm.pois[osm.pois.category == "supermarket"]
    assert sorted(sm["osm_id"].str[0]) == ["n", "w"]
    plat = [t for _, _, t in nodes.values() if t.get("highway") == "bus_stop"]
    assert any(t.get("public_transport") == "platform" for t in plat)
    lu = set(zip(osm.landuse["key"], osm.landuse["value"]))
    assert {("natural", "water"), ("landuse", "cemetery"), ("landuse", "residential"), ("leisure", "park"),
            ("natural", "wood"), ("leisure", "pitch")} <= lu


def test_osm_nodes_round_trip_rd(town):
    """Street nodes are the RD New network projected to WGS84 and rounded to 7 decimals, exactly."""
    to_wgs = Transformer.from_crs("EPSG:28992", "EPSG:4326", always_xy=True)
    to_rd = Transformer.from_crs("EPSG:4326", "EPSG:28992", always_xy=True)
    check = {c["osm_node_id"]: c for c in town["m"]["osm_check_nodes"]}
    assert len(check) == 16  # the crossings of the through roads of the 3 x 3 cells
    found = {}
    for o in osmium.FileProcessor(str(town["dir"] / "town.osm.pbf"), osmium.osm.NODE):
        if o.id in check:
            found[o.id] = (o.location.lon, o.location.lat)
    assert set(found) == set(check)
    for nid, c in check.items():
        assert (c["x"] - 150900) % 400 == 0 and (c["y"] - 440900) % 400 == 0
        lon, lat = to_wgs.transform(c["x"], c["y"])
        assert (round(lon, 7), round(lat, 7)) == found[nid] == (c["lon"], c["lat"])
        x, y = to_rd.transform(*found[nid])
        assert abs(x - c["x"]) < 0.02 and abs(y - c["y"]) < 0.02


def test_csv_signals_follow_the_contract(town):
    csvs, vbo = town["csv"], town["vbo"]
    ids = set(vbo["identificatie"])
    addresses = set(zip(vbo["postcode"], vbo["huisnummer"].astype(str), vbo["huisletter"].fillna(""),
                        vbo["toevoeging"].fillna("")))
    kinds = {"id": 0, "addr": 0}
    for name in ("vacancy.csv", "establishments.csv", "energy.csv"):
        for r in csvs[name]:
            if r["verblijfsobject_id"]:
                assert r["verblijfsobject_id"] in ids
                kinds["id"] += 1
            else:
                assert (r["postcode"], r["huisnummer"], r["huisletter"], r["toevoeging"]) in addresses
                kinds["addr"] += 1
    assert kinds["id"] > 0 and kinds["addr"] > 0
    assert {r["verblijfsobject_id"] == "" for r in csvs["vacancy.csv"]} == {True, False}
    for r in csvs["vacancy.csv"]:
        dt.date.fromisoformat(r["vacant_since"])
    assert {r["active"] for r in csvs["establishments.csv"]} == {"true", "false"}
    assert all(re.fullmatch(r"\d{8}", r["kvk_nummer"]) for r in csvs["establishments.csv"])
    assert all(float(r["kwh_per_m2"]) > 0 for r in csvs["energy.csv"])
    owners = csvs["owners.csv"]
    kinds = {r["owner_kind"] for r in owners}
    assert kinds <= {"natural_person", "municipality", "province", "state", "housing_corporation", "company", "other"}
    assert {"natural_person", "municipality", "housing_corporation", "company"} <= kinds
    persons = sorted({r["owner_name"] for r in owners if r["owner_kind"] == "natural_person"})
    assert persons == town["m"]["natural_person_names"] and len(persons) >= 2
    assert all(p.endswith("-Testpersoon") for p in persons)
    aand = set(town["perceel"]["aanduiding"])
    assert all(r["kadastrale_aanduiding"] in aand for r in owners if r["kadastrale_aanduiding"])


# ------------------------------------------------------------------------------------------------ planted truth
def _rows_for(rows: list[dict], unit: dict) -> list[dict]:
    key = (unit["postcode"], str(unit["huisnummer"]), unit["huisletter"], unit["toevoeging"])
    return [r for r in rows if r["verblijfsobject_id"] == unit["verblijfsobject_id"]
            or (not r["verblijfsobject_id"] and (r["postcode"], r["huisnummer"], r["huisletter"], r["toevoeging"]) == key)]


def test_vacant_building_cases_are_all_planted(town):
    m = town["m"]
    cases = {b["case"]: b for b in m["vacant_buildings"]}
    assert set(cases) == {"bag_vbo_buiten_gebruik", "register_by_id", "register_by_address",
                          "register_no_establishment_low_energy", "bag_pand_buiten_gebruik", "long_renovation",
                          "conflicting_signals", "demolition_permit", "below_min_area", "partially_vacant"}
    assert cases["demolition_permit"]["expected"] == "excluded:demolition"
    assert cases["below_min_area"]["expected"] == "below_min_area"
    assert cases["below_min_area"]["vacant_office_area_m2"] < 500
    part = cases["partially_vacant"]
    assert 0 < part["n_units_vacant"] < part["n_units"] and part["vacant_office_area_m2"] >= 500
    assert all(b["expected"] == "candidate" for c, b in cases.items() if c not in ("demolition_permit", "below_min_area"))
    assert len(m["occupied_offices"]) >= 4
    assert not set(m["occupied_offices"]) & set(cases[c]["pand_id"] for c in cases)


def test_vacant_building_evidence_is_in_the_files(town):
    pand = town["pand"].set_index("identificatie")
    vbo = town["vbo"].set_index("identificatie")
    vac, est, en = town["csv"]["vacancy.csv"], town["csv"]["establishments.csv"], town["csv"]["energy.csv"]
    ref = dt.date(2025, 6, 1)
    for b in town["m"]["vacant_buildings"]:
        p = pand.loc[b["pand_id"]]
        assert p["status"] == b["pand_status"]
        assert "kantoorfunctie" in p["gebruiksdoel"]
        assert p["aantal_verblijfsobjecten"] == b["n_units"] == len(b["units"])
        assert sum(u["oppervlakte"] for u in b["units"] if u["vacant"]) == b["vacant_office_area_m2"]
        for u in b["units"]:
            v = vbo.loc[u["verblijfsobject_id"]]
            assert v["pand_identificatie"] == b["pand_id"] and v["status"] == u["status"]
            assert v["oppervlakte"] == u["oppervlakte"] and "kantoorfunctie" in v["gebruiksdoel"]
            s = set(u["signals"])
            assert bool(_rows_for(vac, u)) == ("vacancy_register" in s)
            active = [r for r in _rows_for(est, u) if r["active"] == "true"]
            assert bool(active) == ("active_establishment" in s) == ("no_establishment" not in s)
            kwh = [float(r["kwh_per_m2"]) for r in _rows_for(en, u)]
            assert ("low_energy" in s) == (bool(kwh) and max(kwh) < 20)
            assert ("normal_energy" in s) == (bool(kwh) and min(kwh) >= 20)
            assert ("bag_status_buiten_gebruik" in s) == (v["status"] == "Verblijfsobject buiten gebruik")
            assert ("bag_pand_buiten_gebruik" in s) == (p["status"] == "Pand buiten gebruik")
            if "bag_long_renovation" in s:
                assert v["status"] == "Verbouwing verblijfsobject"
                assert (ref - pd.Timestamp(v["documentdatum"]).date()).days > 730
    cases = {b["case"]: b for b in town["m"]["vacant_buildings"]}
    assert set(cases["register_by_address"]["signals"]) >= {"vacancy_register"}
    for u in cases["register_by_address"]["units"]:
        if u["vacant"]:
            rows = _rows_for(vac, u)
            assert rows and all(r["verblijfsobject_id"] == "" for r in rows)
    for u in cases["register_by_id"]["units"]:
        assert all(r["verblijfsobject_id"] == u["verblijfsobject_id"] for r in _rows_for(vac, u))
    assert set(cases["bag_vbo_buiten_gebruik"]["signals"]) == {"bag_status_buiten_gebruik", "no_establishment"}
    assert {"vacancy_register", "active_establishment", "normal_energy"} <= set(cases["conflicting_signals"]["signals"])
    assert {"vacancy_register", "no_establishment", "low_energy"} <= set(
        cases["register_no_establishment_low_energy"]["signals"])
    assert pand.loc[cases["demolition_permit"]["pand_id"], "status"] == "Sloopvergunning verleend"
    # occupied offices: no positive signal at all
    for pid in town["m"]["occupied_offices"]:
        ids = set(vbo.index[vbo["pand_identificatie"] == pid])
        assert ids and not any(r["verblijfsobject_id"] in ids for r in vac)
        for i in ids:
            v = vbo.loc[i]
            assert v["status"] in ("Verblijfsobject in gebruik", "Verbouwing verblijfsobject")
            unit = {"verblijfsobject_id": i, "postcode": v["postcode"], "huisnummer": int(v["huisnummer"]),
                    "huisletter": v["huisletter"] if isinstance(v["huisletter"], str) else "",
                    "toevoeging": v["toevoeging"] if isinstance(v["toevoeging"], str) else ""}
            assert any(r["active"] == "true" for r in _rows_for(est, unit))
            assert all(float(r["kwh_per_m2"]) >= 20 for r in _rows_for(en, unit))


def test_plot_cases_geometry(town, osm):
    m, per, pand = town["m"], town["perceel"].set_index("identificatie"), town["pand"]
    plots = {p["case"]: p for p in m["plots"]}
    assert set(plots) == {"clean_open_plot", "small_shed", "built_over", "too_small", "too_narrow", "half_in_pond",
                          "partly_in_water", "inside_cemetery", "exactly_min_area", "noisy_main_road",
                          "public_park", "wood", "sports_field"}
    in_use = pand[pand["status"].isin(IN_USE)].geometry.values
    built = pand[pand["status"].isin(BUILT)].geometry.values
    water = shapely.union_all(osm.landuse[osm.landuse["value"] == "water"].geometry.values)
    cemetery = shapely.union_all(osm.landuse[osm.landuse["value"] == "cemetery"].geometry.values)

    def geom(case):
        p = plots[case]
        row = per.loc[p["perceel_id"]]
        assert row["aanduiding"] == p["kadastrale_aanduiding"]
        assert abs(row.geometry.area - p["area_m2"]) < 1e-6
        return row.geometry

    def coverage(g, blds):
        return shapely.area(shapely.intersection(blds, g)).sum() / g.area

    assert coverage(geom("built_over"), in_use) > 0.05
    for case, p in plots.items():
        if p["expected"] == "usable":
            g = geom(case)
            assert g.area >= 1000 and coverage(g, built) < 0.05
            left = g.difference(shapely.union_all(built)).difference(water).difference(cemetery)
            assert not shapely.buffer(left, -10, join_style="mitre").is_empty
    assert 0 < coverage(geom("small_shed"), in_use) < 0.05
    g = geom("exactly_min_area")
    assert g.area == 1000.0 and not g.buffer(-10, join_style="mitre").is_empty
    assert geom("too_small").area < 1000
    g = geom("too_narrow")
    assert g.area >= 1000 and g.buffer(-10).is_empty
    g = geom("half_in_pond")
    assert g.area >= 1000 and g.difference(water).area < 1000 and g.intersection(water).area >= 0.5 * g.area
    g = geom("partly_in_water")
    assert 0 < g.intersection(water).area and g.difference(water).area >= 1000
    g = geom("inside_cemetery")
    assert g.difference(cemetery).area < 1e-3
    for case, value in (("public_park", "park"), ("wood", "wood"), ("sports_field", "pitch")):
        cover = shapely.union_all(osm.landuse[osm.landuse["value"] == value].geometry.values)
        g = geom(case)
        assert g.area >= 1000 and coverage(g, built) == 0 and g.difference(cover).area < 1e-3, case
        assert plots[case]["expected_reason"] == {"park": "osm:leisure=park", "wood": "osm:natural=wood",
                                                   "pitch": "osm:leisure=pitch"}[value]
    g = geom("noisy_main_road")
    with rasterio.open(town["dir"] / "noise_lden.tif") as src:
        cells = [src.index(x, y) for x, y in ((g.centroid.x, g.bounds[1] + 5), (g.centroid.x, g.bounds[3] - 5))]
        a = src.read(1)
        assert a[cells[0]] > 65 > a[cells[1]]
        for case in ("clean_open_plot", "exactly_min_area", "partly_in_water"):
            q = geom(case)
            win = rasterio.windows.from_bounds(*q.bounds, transform=src.transform).round_offsets().round_lengths()
            assert src.read(1, window=win).max() <= 65, case
    for p in m["plots"]:
        assert p["expected_outcome"] == p["outcome"]


def test_manifest_points_at_existing_objects(town):
    m = town["m"]
    pand_ids = set(town["pand"]["identificatie"])
    assert {b["pand_id"] for b in m["vacant_buildings"]} <= pand_ids
    assert set(m["occupied_offices"]) <= pand_ids
    assert {p["perceel_id"] for p in m["plots"]} <= set(town["perceel"]["identificatie"])
    assert m["assumptions"]["max_building_coverage"] == 0.05 and m["assumptions"]["min_area_m2"] == 1000
    assert m["assumptions"]["min_width_m"] == 20 and m["assumptions"]["min_building_area_m2"] == 500


# ------------------------------------------------------------------------------------------------ determinism, scale
def test_same_seed_same_data(tmp_path, demo_dir):
    a = tmp_path / "a"
    ma = generate_town(a, seed=7)
    assert ma == json.loads((Path(demo_dir) / "manifest.json").read_text(encoding="utf-8"))
    fa, fb = _feature_data(a), _feature_data(Path(demo_dir))
    for layer in fa:
        pd.testing.assert_frame_equal(fa[layer], fb[layer])
    for name in ("town.osm.pbf", "noise_lden.tif", *CSV_HEADERS):
        assert hashlib.sha256((a / name).read_bytes()).digest() == \
            hashlib.sha256((Path(demo_dir) / name).read_bytes()).digest(), name
    b = tmp_path / "b"
    mb = generate_town(b, seed=8)
    assert mb["vacant_buildings"] != ma["vacant_buildings"] or mb["counts"] != ma["counts"]
    assert not _feature_data(b)["pand"]["wkb"].equals(fa["pand"]["wkb"])
    assert {p["case"] for p in mb["plots"]} == {p["case"] for p in ma["plots"]}


def test_scaled_town(tmp_path):
    m = generate_town(tmp_path, seed=7, units=20_000)
    n = pyogrio.read_info(tmp_path / "bag.gpkg", layer="verblijfsobject")["features"]
    assert n == m["counts"]["verblijfsobjecten"]
    assert abs(n - 20_000) <= 2_000
    vbo = pyogrio.read_dataframe(tmp_path / "bag.gpkg", layer="verblijfsobject",
                                 columns=["identificatie", "postcode", "huisnummer", "huisletter", "toevoeging",
                                          "pand_identificatie"])
    assert vbo["identificatie"].is_unique
    address = (vbo["postcode"] + "|" + vbo["huisnummer"].astype(str) + "|" + vbo["huisletter"].fillna("") + "|"
               + vbo["toevoeging"].fillna(""))
    assert address.is_unique
    per = pyogrio.read_dataframe(tmp_path / "brk_percelen.gpkg", layer="perceel")
    assert len(per) == m["counts"]["percelen"]
    assert abs(shapely.union_all(per.geometry.values).area - per.geometry.area.sum()) < 0.1
    osm = read_osm(tmp_path / "town.osm.pbf")
    G = nx.Graph()
    G.add_edges_from(zip(osm.edges.u, osm.edges.v))
    assert nx.is_connected(G)
    # the planted cases of the core town are the same as in the default town
    assert {b["case"] for b in m["vacant_buildings"]} >= {"partially_vacant", "demolition_permit"}
    with rasterio.open(tmp_path / "noise_lden.tif") as src:
        x0, y0, x1, y1 = m["bbox_rd"]
        assert src.bounds.left <= x0 - 300 and src.bounds.top >= y1 + 300


def test_command_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    assert "--units" in capsys.readouterr().out
