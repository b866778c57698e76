#!/usr/bin/python3
"""Open a plekzoeker publish in real QGIS and check it; render every layer to PNG.

Run with the system Python that has PyQGIS (Debian: apt-get install -y qgis python3-qgis), not the
project's virtualenv:

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 scripts/qgis_check.py out/latest --png-dir /tmp/qgis-png

For every ``*.geojson`` in the directory: QGIS opens it, the feature count equals the number of
features in the file (and the count in summary.json), the ``.qml`` beside it loads, the renderer is
``graduatedSymbol`` on ``score`` with labels on, every feature gets a symbol, and a rendering in
EPSG:3857 shows pixels in the style's colours. Then ``plekzoeker.qgs`` is opened: every layer valid,
the candidate layers styled graduated, an OpenStreetMap XYZ basemap present (not fetched: the
check runs offline). Then ``plekzoeker.gpkg``: every layer opens in EPSG:28992 with the count in
summary.json, QGIS applies the default style from its ``layer_styles`` table by itself (no .qml is
loaded: graduated on score for the candidate layers, single symbol for the excluded places), and a
rendering shows the style's colours. Prints a JSON report; exit status 1 when a check fails, 2 when QGIS is missing.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

try:
    from qgis.core import (
        QgsApplication,
        QgsCoordinateReferenceSystem,
        QgsCoordinateTransform,
        QgsMapRendererSequentialJob,
        QgsMapSettings,
        QgsProject,
        QgsRasterLayer,
        QgsRenderContext,
        QgsVectorLayer,
    )
    from qgis.PyQt.QtCore import QSize
    from qgis.PyQt.QtGui import QColor
except ImportError as exc:  # pragma: no cover - depends on the machine
    print(f"qgis_check: PyQGIS is not importable ({exc}); install it with: apt-get install -y qgis python3-qgis",
          file=sys.stderr)
    sys.exit(2)

WEB = QgsCoordinateReferenceSystem("EPSG:3857")


def _render(layers: list, path: Path, size=(800, 600)) -> dict:
    """Render ``layers`` over their joint extent to ``path``; count painted pixels by colour."""
    settings = QgsMapSettings()
    settings.setLayers(layers)
    settings.setDestinationCrs(WEB)
    settings.setOutputSize(QSize(*size))
    settings.setBackgroundColor(QColor(255, 255, 255))
    ext = None
    for layer in layers:
        e = QgsCoordinateTransform(layer.crs(), WEB, QgsProject.instance()).transformBoundingBox(layer.extent())
        if ext is None:
            ext = e
        else:
            ext.combineExtentWith(e)
    ext.grow(max(ext.width(), ext.height(), 200.0) * 0.1)
    settings.setExtent(ext)
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    img = job.renderedImage()
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(str(path), "PNG")
    colours: dict[str, int] = {}
    painted = 0
    for y in range(0, img.height(), 2):
        for x in range(0, img.width(), 2):
            c = QColor(img.pixel(x, y))
            if (c.red(), c.green(), c.blue()) != (255, 255, 255):
                painted += 1
                key = f"{c.red()},{c.green()},{c.blue()}"
                colours[key] = colours.get(key, 0) + 1
    return {"png": str(path), "painted_pixels": painted, "colours": colours}


def _style_colours(layer) -> list[tuple[int, int, int]]:
    """The class colours as they appear over white (the symbol opacity blends them)."""
    out = []
    for r in layer.renderer().ranges():
        sym = r.symbol()
        c, a = sym.color(), sym.opacity() * sym.color().alphaF()
        out.append(tuple(round(v * a + 255 * (1 - a)) for v in (c.red(), c.green(), c.blue())))
    return out


def _styled_pixels(colours: dict[str, int], style: list[tuple[int, int, int]], tol: int = 4) -> int:
    n = 0
    for key, count in colours.items():
        rgb = tuple(int(v) for v in key.split(","))
        if any(all(abs(a - b) <= tol for a, b in zip(rgb, s)) for s in style):
            n += count
    return n


def check_layer(path: Path, expected: int | None, png_dir: Path, errors: list[str]) -> dict:
    name = path.stem
    layer = QgsVectorLayer(str(path), name, "ogr")
    rep: dict = {"file": path.name, "valid": layer.isValid()}
    if not layer.isValid():
        errors.append(f"{path.name}: QGIS cannot open it")
        return rep
    in_file = len(json.loads(path.read_text(encoding="utf-8"))["features"])
    rep["features"] = layer.featureCount()
    if layer.featureCount() != in_file:
        errors.append(f"{path.name}: QGIS sees {layer.featureCount()} features, the file has {in_file}")
    if expected is not None and layer.featureCount() != expected:
        errors.append(f"{path.name}: {layer.featureCount()} features, summary.json says {expected}")
    qml = path.with_suffix(".qml")
    if not qml.exists():
        errors.append(f"{path.name}: no {qml.name} beside it")
        return rep
    msg, ok = layer.loadNamedStyle(str(qml))
    rep["renderer"] = layer.renderer().type() if layer.renderer() else None
    if not ok:
        errors.append(f"{qml.name}: QGIS cannot load the style ({msg})")
        return rep
    if rep["renderer"] != "graduatedSymbol":
        errors.append(f"{qml.name}: renderer is {rep['renderer']}, expected graduatedSymbol")
        return rep
    r = layer.renderer()
    rep.update(attribute=r.classAttribute(), classes=len(r.ranges()), labels=layer.labelsEnabled())
    if r.classAttribute() != "score_relative" or len(r.ranges()) != 5:
        errors.append(f"{qml.name}: graduated on {r.classAttribute()!r} with {len(r.ranges())} classes, expected score_relative / 5")
    if not layer.labelsEnabled():
        errors.append(f"{qml.name}: labels (rank) are not enabled")
    ctx = QgsRenderContext()
    r.startRender(ctx, layer.fields())
    unstyled = [f.id() for f in layer.getFeatures() if r.symbolForFeature(f, ctx) is None]
    r.stopRender(ctx)
    if unstyled:
        errors.append(f"{path.name}: {len(unstyled)} feature(s) fall in no class of the style")
    if layer.featureCount():
        img = _render([layer], png_dir / f"{name}.png")
        rep["render"] = {k: v for k, v in img.items() if k != "colours"}
        styled = _styled_pixels(img["colours"], _style_colours(layer))
        rep["render"]["style_pixels"] = styled
        if img["painted_pixels"] == 0 or styled == 0:
            errors.append(f"{path.name}: the rendering shows nothing in the style's colours")
    return rep


def _style_colours_any(layer) -> list[tuple[int, int, int]]:
    r = layer.renderer()
    if r.type() == "graduatedSymbol":
        return _style_colours(layer)
    c = r.symbol().color()
    return [(c.red(), c.green(), c.blue())]


def check_geopackage(path: Path, expected: dict, png_dir: Path, errors: list[str]) -> dict:
    """Every layer of the GeoPackage: count, CRS, the default style from layer_styles applied on load."""
    rep: dict = {"file": path.name, "layers": {}}
    whole = QgsVectorLayer(str(path), "all", "ogr")
    names = [s.split("!!::!!")[1] for s in whole.dataProvider().subLayers()]
    del whole
    rep["sublayers"] = names
    for name in sorted(set(names) | set(expected)):
        if name == "layer_styles":
            continue
        layer = QgsVectorLayer(f"{path}|layername={name}", name, "ogr")
        info: dict = {"valid": layer.isValid()}
        rep["layers"][name] = info
        if not layer.isValid():
            errors.append(f"{path.name}: layer {name!r} cannot be opened")
            continue
        info.update(features=layer.featureCount(), crs=layer.crs().authid(),
                    renderer=layer.renderer().type() if layer.renderer() else None, labels=layer.labelsEnabled())
        if name in expected and layer.featureCount() != expected[name]:
            errors.append(f"{path.name}: layer {name!r} has {layer.featureCount()} features, summary.json says {expected[name]}")
        if layer.crs().authid() != "EPSG:28992":
            errors.append(f"{path.name}: layer {name!r} is in {layer.crs().authid()}, expected EPSG:28992")
        want = "singleSymbol" if name == "excluded_candidates" else "graduatedSymbol"
        if info["renderer"] != want:
            errors.append(f"{path.name}: layer {name!r} opens with renderer {info['renderer']}, expected {want} "
                          "(the default style in layer_styles was not applied)")
            continue
        if want == "graduatedSymbol":
            r = layer.renderer()
            info.update(attribute=r.classAttribute(), classes=len(r.ranges()))
            if r.classAttribute() != "score_relative" or len(r.ranges()) != 5:
                errors.append(f"{path.name}: layer {name!r} graduated on {r.classAttribute()!r} with "
                              f"{len(r.ranges())} classes, expected score_relative / 5")
        if layer.featureCount() and not layer.extent().isEmpty():
            img = _render([layer], png_dir / f"gpkg_{name}.png")
            info["render"] = {k: v for k, v in img.items() if k != "colours"}
            info["render"]["style_pixels"] = _styled_pixels(img["colours"], _style_colours_any(layer), tol=40)
            if info["render"]["style_pixels"] == 0:
                errors.append(f"{path.name}: layer {name!r}: the rendering shows nothing in the style's colours")
    return rep


def check_project(path: Path, png_dir: Path, errors: list[str]) -> dict:
    project = QgsProject.instance()
    if not project.read(str(path)):
        errors.append(f"{path.name}: QGIS cannot read the project ({project.error()})")
        return {"file": path.name, "read": False}
    view = project.viewSettings().defaultViewExtent()
    rep: dict = {"file": path.name, "read": True, "crs": project.crs().authid(), "layers": {},
                 "default_view": [round(view.xMinimum()), round(view.yMinimum()), round(view.xMaximum()), round(view.yMaximum())]}
    if view.isEmpty():
        errors.append(f"{path.name}: no default view extent")
    vectors = []
    has_osm = False
    for layer in project.mapLayers().values():
        info = {"valid": layer.isValid(), "provider": layer.providerType()}
        if not layer.isValid():
            errors.append(f"{path.name}: layer {layer.name()!r} is not valid ({layer.source()})")
        if isinstance(layer, QgsVectorLayer):
            info.update(features=layer.featureCount(), renderer=layer.renderer().type() if layer.renderer() else None)
            if info["renderer"] != "graduatedSymbol":
                errors.append(f"{path.name}: layer {layer.name()!r} renderer {info['renderer']}, expected graduatedSymbol")
            src = path.parent / Path(layer.source().split("|")[0]).name
            if src.exists():
                n = len(json.loads(src.read_text(encoding="utf-8"))["features"])
                if layer.featureCount() != n:
                    errors.append(f"{path.name}: layer {layer.name()!r} has {layer.featureCount()} features, file {n}")
            node = project.layerTreeRoot().findLayer(layer.id())
            info["visible"] = bool(node and node.isVisible())
            if info["visible"] and layer.featureCount():
                vectors.append(layer)
        elif isinstance(layer, QgsRasterLayer):
            has_osm = has_osm or "tile.openstreetmap.org" in layer.source()
        rep["layers"][layer.name()] = info
    if project.crs().authid() != "EPSG:3857":
        errors.append(f"{path.name}: project CRS {project.crs().authid()}, expected EPSG:3857 (OSM tiles)")
    if not has_osm:
        errors.append(f"{path.name}: no OpenStreetMap XYZ basemap layer")
    if vectors:
        rep["render"] = {k: v for k, v in _render(vectors, png_dir / "project.png").items() if k != "colours"}
    project.clear()
    return rep


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("publish_dir", type=Path, help="a publish directory, e.g. out/latest")
    ap.add_argument("--png-dir", type=Path, default=None, help="where to write the PNGs (default: <publish_dir>/qgis-check)")
    args = ap.parse_args(argv)
    d = args.publish_dir.resolve()
    if not d.is_dir():
        print(f"qgis_check: {d}: not a directory", file=sys.stderr)
        return 1
    png_dir = (args.png_dir or d / "qgis-check").resolve()
    summary = json.loads((d / "summary.json").read_text()) if (d / "summary.json").exists() else {}
    counts = summary.get("files", {})
    app = QgsApplication([], False)
    app.initQgis()
    errors: list[str] = []
    report: dict = {"dir": str(d), "qgis": __import__("qgis.core").core.Qgis.QGIS_VERSION, "layers": []}
    files = sorted(d.glob("*.geojson"))
    if not files:
        errors.append(f"{d}: no .geojson files")
    for f in files:
        expected = counts.get(f.name, counts.get(f.name.replace("_points.geojson", ".geojson")))
        report["layers"].append(check_layer(f, expected, png_dir, errors))
    qgs = d / "plekzoeker.qgs"
    if qgs.exists():
        report["project"] = check_project(qgs, png_dir, errors)
    else:
        errors.append(f"{d}: no plekzoeker.qgs")
    gpkg = d / "plekzoeker.gpkg"
    if gpkg.exists():
        report["geopackage"] = check_geopackage(gpkg, (summary.get("geopackage") or {}).get("layers", {}), png_dir, errors)
    elif "geopackage" in summary:
        errors.append(f"{d}: summary.json lists a GeoPackage, but there is no plekzoeker.gpkg")
    report["errors"] = errors
    print(json.dumps(report, indent=1))
    app.exitQgis()
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
