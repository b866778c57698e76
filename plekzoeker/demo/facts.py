"""The demo town's fact sources, planted from the generated town (manifest + GeoPackages).

Written next to the other demo files and named in demo.yaml (plekzoeker/demo/config.py):

* ``zoning.gml`` — an IMRO2012-shaped plan (``Bestemmingsplangebied`` + ``Enkelbestemming`` surfaces,
  status vastgesteld): Kantoor over every vacant office, Verkeer over the first usable plot (blocked:
  it is excluded for zoning), Wonen over the other usable plots; with the detail objects of a real plan:
  a Bouwvlak around every office, a Maatvoering "maximum aantal bouwlagen" 4 over each Kantoor area, a
  Functieaanduiding "kantoor" on the first two offices, and a Maatvoering "maximum
  bebouwingspercentage (%)" 40 over the Wonen plots (no Bouwvlak there: a temporary home needs a
  deviation);
* ``natura2000.geojson`` — one Natura 2000 site over the second usable plot (excluded for it);
* ``labels.csv`` — EP-Online columns: the first candidate office has no label at all (the label-C rule
  applies: it ranks up with that evidence), the second label A, the others B (both good enough: the rule does not apply);
* ``rijksmonumenten.csv`` — the third candidate office is a Rijksmonument (exempt from the rule);
* ``3dbag.csv`` — floors and heights for every vacant office.

The planted outcome is returned (and kept in manifest.json under ``facts``).
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pyogrio
from shapely.geometry import box, mapping

PLAN_ID = "NL.IMRO.9999.BPDEMO-VA01"


def _poslist(geom) -> str:
    ring = geom.exterior.coords
    return " ".join(f"{x:.3f} {y:.3f}" for x, y in ring)


def _surface(geom, gid: str) -> str:
    return (f'<gml:Surface gml:id="{gid}" srsName="urn:ogc:def:crs:EPSG::28992"><gml:patches><gml:PolygonPatch>'
            f"<gml:exterior><gml:LinearRing><gml:posList>{_poslist(geom)}</gml:posList></gml:LinearRing>"
            "</gml:exterior></gml:PolygonPatch></gml:patches></gml:Surface>")


def _detail(kind: str, i: int, geom, naam: str, waarde: tuple[str, str] | None = None) -> str:
    """A Bouwvlak / Functieaanduiding / Maatvoering feature in IMRO2012's element order."""
    info = (f"<imro:maatvoeringInfo><imro:WaardeEnType><imro:waarde>{waarde[0]}</imro:waarde><imro:waardeType>"
            f"{waarde[1]}</imro:waardeType></imro:WaardeEnType></imro:maatvoeringInfo>") if waarde else ""
    code = {"Bouwvlak": "BP", "Functieaanduiding": "FA", "Maatvoering": "MP"}[kind]
    return (f'<imro:featureMember><imro:{kind} gml:id="NL.IMRO.9999.{code}{i}-VA01"><imro:typePlanobject>{kind.lower()}'
            f"</imro:typePlanobject><imro:naam>{naam}</imro:naam>{info}<imro:geometrie>"
            f"{_surface(geom, f'{code.lower()}{i}')}</imro:geometrie></imro:{kind}></imro:featureMember>")


def write_zoning_gml(path: Path, areas: list[tuple[str, object]], plan_area, details: list[str] = ()) -> None:
    """An IMRO2012-shaped GML: one plan area, Enkelbestemming (hoofdgroep, polygon) features and ``details``
    (features written by :func:`_detail`)."""
    members = [f'<imro:featureMember><imro:Bestemmingsplangebied gml:id="{PLAN_ID}"><imro:typePlan>bestemmingsplan'
               "</imro:typePlan><imro:naam>Demodorp Centrum</imro:naam><imro:planstatus>vastgesteld</imro:planstatus>"
               f"<imro:datum>2024-06-01</imro:datum><imro:geometrie>{_surface(plan_area, 'pg')}</imro:geometrie>"
               "</imro:Bestemmingsplangebied></imro:featureMember>"]
    for i, (group, geom) in enumerate(areas):
        members.append(f'<imro:featureMember><imro:Enkelbestemming gml:id="NL.IMRO.9999.EP{i}-VA01">'
                       f"<imro:naam>{group.title()}</imro:naam><imro:bestemmingshoofdgroep>{group}"
                       f"</imro:bestemmingshoofdgroep><imro:geometrie>{_surface(geom, f'e{i}')}</imro:geometrie>"
                       "</imro:Enkelbestemming></imro:featureMember>")
    members += list(details)
    path.write_text('<?xml version="1.0" encoding="UTF-8"?>\n<imro:FeatureCollectionIMRO gml:id="c" '
                    'xmlns:imro="http://www.geonovum.nl/imro/2012/1.1" xmlns:gml="http://www.opengis.net/gml/3.2">\n'
                    + "\n".join(members) + "\n</imro:FeatureCollectionIMRO>\n", encoding="utf-8")


def _csv(path: Path, header: list[str], rows: list[list], sep: str = ",") -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, delimiter=sep)
        w.writerow(header)
        w.writerows(rows)


def write_demo_facts(outdir: Path, manifest: dict) -> dict:
    """Write the fact files of the demo town; returns the planted facts (for manifest.json)."""
    outdir = Path(outdir)
    pand = pyogrio.read_dataframe(outdir / "bag.gpkg", layer="pand", columns=["identificatie"])
    parcel = pyogrio.read_dataframe(outdir / "brk_percelen.gpkg", layer="perceel", columns=["identificatie"])
    foot = dict(zip(pand["identificatie"], pand.geometry))
    plots = dict(zip(parcel["identificatie"], parcel.geometry))
    offices = [v for v in manifest["vacant_buildings"] if v["expected"] == "candidate"]
    usable = [p["perceel_id"] for p in manifest["plots"] if p["expected_outcome"] == "usable"]
    areas = [("kantoor", box(*foot[o["pand_id"]].buffer(2).bounds)) for o in offices]
    zoned_verkeer, n2k_plot = usable[0], usable[1]
    areas.append(("verkeer", box(*plots[zoned_verkeer].buffer(1).bounds)))
    areas += [("wonen", box(*plots[p].buffer(1).bounds)) for p in usable[2:]]
    allb = [g.bounds for _, g in areas]
    plan_area = box(min(b[0] for b in allb), min(b[1] for b in allb), max(b[2] for b in allb), max(b[3] for b in allb))
    details = [_detail("Bouwvlak", i, box(*foot[o["pand_id"]].buffer(1).bounds), "bouwvlak") for i, o in enumerate(offices)]
    details += [_detail("Maatvoering", i, g, "maximum aantal bouwlagen", ("4", "maximum aantal bouwlagen"))
                for i, (grp, g) in enumerate(areas) if grp == "kantoor"]
    details += [_detail("Functieaanduiding", i, box(*foot[o["pand_id"]].buffer(1).bounds), "kantoor")
                for i, o in enumerate(offices[:2])]
    details += [_detail("Maatvoering", 100 + i, g, "maximum bebouwingspercentage (%)",
                        ("40", "maximum bebouwingspercentage (%)")) for i, (grp, g) in enumerate(areas) if grp == "wonen"]
    write_zoning_gml(outdir / "zoning.gml", areas, plan_area, details)
    n2k = plots[n2k_plot].buffer(-1)  # inside the parcel only: the neighbours stay off the site
    (outdir / "natura2000.geojson").write_text(json.dumps({
        "type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::28992"}},
        "features": [{"type": "Feature", "properties": {"naam_n2k": "Demodorper Veen", "nummer": 999},
                      "geometry": mapping(n2k)}]}), encoding="utf-8")
    no_label, label_a, monument = offices[0]["pand_id"], offices[1]["pand_id"], offices[2]["pand_id"]
    rows = []
    for o in offices:
        if o["pand_id"] == no_label:
            continue
        for u in o["units"]:
            rows.append(["20220301", "A" if o["pand_id"] == label_a else "B", "20220315", "", "", "",
                         u["verblijfsobject_id"], "U"])
    _csv(outdir / "labels.csv", ["Pand_opnamedatum", "Pand_energieklasse", "Pand_registratiedatum", "Pand_postcode",
                                 "Pand_huisnummer", "Pand_huisnummer_toev", "Pand_bagverblijfsobjectid",
                                 "Pand_gebouwklasse"], rows, sep=";")
    _csv(outdir / "rijksmonumenten.csv", ["rijksmonument_nummer", "bag_pand_id", "naam"],
         [["599001", f"NL.IMBAG.Pand.{monument}", "Kantoor De Hoeksteen (demo)"]])
    _csv(outdir / "3dbag.csv", ["identificatie", "b3_h_maaiveld", "b3_h_dak_70p", "b3_bouwlagen", "b3_opp_grond"],
         [[f"NL.IMBAG.Pand.{o['pand_id']}", "0.4", f"{0.4 + 3.3 * (2 + i % 3):.1f}", str(2 + i % 3),
           f"{foot[o['pand_id']].area:.1f}"] for i, o in enumerate(offices)])
    kad = {p["perceel_id"]: p["kadastrale_aanduiding"] for p in manifest["plots"]}
    return {"zoning_plan": PLAN_ID, "zoning_office_floors": 4, "zoning_plot_coverage_pct": 40,
            "zoning_function_kantoor": [o["pand_id"] for o in offices[:2]],
            "zoning_wonen_plots": [kad[p] for p in usable[2:]],
            "excluded_plots": {kad[zoned_verkeer]: "zoning blocked: verkeer", kad[n2k_plot]: "Natura 2000"},
            "excluded_for_zoning": zoned_verkeer, "excluded_for_natura2000": n2k_plot,
            "label_rule_applies": no_label, "label_a": label_a, "rijksmonument": monument,
            "files": ["zoning.gml", "natura2000.geojson", "labels.csv", "rijksmonumenten.csv", "3dbag.csv"]}
