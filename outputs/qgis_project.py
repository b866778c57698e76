"""A QGIS project (``plekzoeker.qgs``, plain XML) that opens the published layers styled over OSM.

The project sits beside the GeoJSON files and names them by relative path, so the whole publish
directory can be copied or opened from ``out/latest/``. Layers, top to bottom: the point versions
(off by default, handy when zoomed out), both candidate layers with the graduated style of their
``.qml`` embedded, and an OpenStreetMap XYZ basemap (fetched by QGIS only when the map is shown).
Project CRS is EPSG:3857 so the OSM tiles are drawn without resampling; the initial view is the
extent of the candidates. ``scripts/qgis_check.py`` opens it in real QGIS.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from pyproj import CRS, Transformer

from .geojson import KIND_FILES
from .qgis_style import graduated_qml

OSM_SOURCE = "type=xyz&url=https://tile.openstreetmap.org/%7Bz%7D/%7Bx%7D/%7By%7D.png&zmax=19&zmin=0"
TITLES = {"vacant_buildings": "Vacant buildings", "undeveloped_plots": "Undeveloped plots"}
NL_28992 = (13_000.0, 306_000.0, 278_000.0, 620_000.0)  # the Netherlands, when there is nothing to show


def _srs(parent: ET.Element, epsg: int) -> ET.Element:
    crs = CRS.from_epsg(epsg)
    s = ET.SubElement(parent, "spatialrefsys")
    ET.SubElement(s, "wkt").text = crs.to_wkt()
    ET.SubElement(s, "srid").text = str(epsg)
    ET.SubElement(s, "authid").text = f"EPSG:{epsg}"
    ET.SubElement(s, "description").text = crs.name
    ET.SubElement(s, "geographicflag").text = "true" if crs.is_geographic else "false"
    return s


def _extent_3857(bounds_28992: tuple[float, float, float, float] | None) -> tuple[float, float, float, float]:
    minx, miny, maxx, maxy = bounds_28992 or NL_28992
    pad = max(maxx - minx, maxy - miny, 200.0) * 0.1
    tr = Transformer.from_crs(28992, 3857, always_xy=True)
    xs, ys = tr.transform([minx - pad, maxx + pad, minx - pad, maxx + pad], [miny - pad, miny - pad, maxy + pad, maxy + pad])
    return min(xs), min(ys), max(xs), max(ys)


def _vector_layer(layers: ET.Element, tree: ET.Element, layer_id: str, name: str, file: str, geometry: str,
                  visible: bool) -> None:
    ET.SubElement(tree, "layer-tree-layer", {
        "id": layer_id, "name": name, "source": f"./{file}", "providerKey": "ogr",
        "checked": "Qt::Checked" if visible else "Qt::Unchecked", "expanded": "1"})
    ml = ET.SubElement(layers, "maplayer", {"type": "vector", "geometry": "Point" if geometry == "point" else "Polygon",
                                            "labelsEnabled": "1", "styleCategories": "AllStyleCategories",
                                            "hasScaleBasedVisibilityFlag": "0", "minScale": "0", "maxScale": "0"})
    ET.SubElement(ml, "id").text = layer_id
    ET.SubElement(ml, "datasource").text = f"./{file}"
    ET.SubElement(ml, "layername").text = name
    _srs(ET.SubElement(ml, "srs"), 4326)
    ET.SubElement(ml, "provider", {"encoding": "UTF-8"}).text = "ogr"
    style = ET.fromstring(graduated_qml(geometry).split("\n", 1)[1])  # drop the DOCTYPE line
    for tag in ("renderer-v2", "labeling"):
        ml.append(style.find(tag))


def project_xml(publish_dir: Path, bounds_28992: tuple[float, float, float, float] | None,
                title: str = "plekzoeker candidates") -> str:
    """The .qgs text for the GeoJSON files present in ``publish_dir``."""
    root = ET.Element("qgis", {"version": "3.22.0", "projectname": title})
    ET.SubElement(root, "homePath", {"path": ""})
    ET.SubElement(root, "title").text = title
    _srs(ET.SubElement(root, "projectCrs"), 3857)
    tree = ET.SubElement(root, "layer-tree-group")
    ET.SubElement(tree, "customproperties")
    layers = ET.Element("projectlayers")
    order: list[str] = []
    stems = [s for s in KIND_FILES.values() if (publish_dir / f"{s}.geojson").exists()]
    for stem in stems:  # points on top, off by default
        if (publish_dir / f"{stem}_points.geojson").exists():
            lid = f"{stem}_points"
            _vector_layer(layers, tree, lid, f"{TITLES[stem]} (points)", f"{stem}_points.geojson", "point", False)
            order.append(lid)
    for stem in stems:
        _vector_layer(layers, tree, stem, TITLES[stem], f"{stem}.geojson", "polygon", True)
        order.append(stem)
    ET.SubElement(tree, "layer-tree-layer", {"id": "openstreetmap", "name": "OpenStreetMap", "source": OSM_SOURCE,
                                             "providerKey": "wms", "checked": "Qt::Checked", "expanded": "0"})
    osm = ET.SubElement(layers, "maplayer", {"type": "raster", "styleCategories": "AllStyleCategories",
                                             "hasScaleBasedVisibilityFlag": "0", "minScale": "1e+08", "maxScale": "0"})
    ET.SubElement(osm, "id").text = "openstreetmap"
    ET.SubElement(osm, "datasource").text = OSM_SOURCE
    ET.SubElement(osm, "layername").text = "OpenStreetMap"
    _srs(ET.SubElement(osm, "srs"), 3857)
    ET.SubElement(osm, "provider").text = "wms"
    order.append("openstreetmap")
    root.append(layers)
    lo = ET.SubElement(root, "layerorder")
    for lid in reversed(order):  # drawing order: bottom first
        ET.SubElement(lo, "layer", {"id": lid})
    props = ET.SubElement(root, "properties")
    paths = ET.SubElement(props, "Paths")
    ET.SubElement(paths, "Absolute", {"type": "bool"}).text = "false"
    srs_props = ET.SubElement(props, "SpatialRefSys")  # without it QGIS ignores <projectCrs>
    ET.SubElement(srs_props, "ProjectionsEnabled", {"type": "int"}).text = "1"
    xmin, ymin, xmax, ymax = _extent_3857(bounds_28992)
    canvas = ET.SubElement(root, "mapcanvas", {"name": "theMapCanvas", "annotationsVisible": "1"})
    ET.SubElement(canvas, "units").text = "meters"
    ext = ET.SubElement(canvas, "extent")
    for k, v in (("xmin", xmin), ("ymin", ymin), ("xmax", xmax), ("ymax", ymax)):
        ET.SubElement(ext, k).text = f"{v:.3f}"
    ET.SubElement(canvas, "rotation").text = "0"
    _srs(ET.SubElement(canvas, "destinationsrs"), 3857)
    view = ET.SubElement(root, "ProjectViewSettings", {"UseProjectScales": "0", "rotation": "0"})
    ET.SubElement(view, "Scales")
    dve = ET.SubElement(view, "DefaultViewExtent", {"xmin": f"{xmin:.3f}", "ymin": f"{ymin:.3f}",
                                                    "xmax": f"{xmax:.3f}", "ymax": f"{ymax:.3f}"})
    _srs(dve, 3857)
    ET.indent(root, space=" ")
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(root, encoding="unicode") + "\n"


def write_project(publish_dir: Path, bounds_28992: tuple[float, float, float, float] | None,
                  name: str = "plekzoeker.qgs", title: str = "plekzoeker candidates") -> Path:
    """Write the project beside the GeoJSON files (temp file + rename)."""
    path = publish_dir / name
    tmp = publish_dir / f".{name}.tmp"
    tmp.write_text(project_xml(publish_dir, bounds_28992, title), encoding="utf-8")
    tmp.replace(path)
    return path
