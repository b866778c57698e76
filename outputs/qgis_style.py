"""QGIS layer styles (.qml): graduated colours by the relative score (percentile within the municipality,
see :mod:`plekzoeker.scoring.ranking`), labels by rank."""
from __future__ import annotations

from xml.sax.saxutils import quoteattr

# red (poor) -> green (good), 5 classes over score 0..1
CLASSES = [(0.0, 0.2, "215,25,28,255"), (0.2, 0.4, "253,174,97,255"), (0.4, 0.6, "255,255,191,255"),
           (0.6, 0.8, "166,217,106,255"), (0.8, 1.0001, "26,150,65,255")]


def _symbol(i: int, color: str, geometry: str) -> str:
    if geometry == "point":
        layer = f"""<layer class="SimpleMarker" enabled="1" pass="0" locked="0"><Option type="Map">
<Option name="color" type="QString" value="{color}"/><Option name="name" type="QString" value="circle"/>
<Option name="outline_color" type="QString" value="35,35,35,255"/><Option name="outline_width" type="QString" value="0.3"/>
<Option name="size" type="QString" value="3"/></Option></layer>"""
        return f'<symbol type="marker" name="{i}" alpha="1" clip_to_extent="1" force_rhr="0">{layer}</symbol>'
    layer = f"""<layer class="SimpleFill" enabled="1" pass="0" locked="0"><Option type="Map">
<Option name="color" type="QString" value="{color}"/><Option name="outline_color" type="QString" value="35,35,35,255"/>
<Option name="outline_width" type="QString" value="0.4"/><Option name="style" type="QString" value="solid"/></Option></layer>"""
    return f'<symbol type="fill" name="{i}" alpha="0.75" clip_to_extent="1" force_rhr="0">{layer}</symbol>'


def graduated_qml(geometry: str = "polygon", attr: str = "score_relative", label_field: str = "rank") -> str:
    """A QGIS 3 style: graduated renderer on ``attr`` and simple labels from ``label_field``."""
    ranges = "\n".join(
        f'<range lower="{lo:.4f}" upper="{hi:.4f}" symbol="{i}" label={quoteattr(f"{lo:.1f} – {min(hi, 1):.1f}")} render="true"/>'
        for i, (lo, hi, _) in enumerate(CLASSES))
    symbols = "\n".join(_symbol(i, c, geometry) for i, (_, _, c) in enumerate(CLASSES))
    placement = "0" if geometry == "point" else "1"
    return f"""<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.22.0" styleCategories="Symbology|Labeling" labelsEnabled="1">
 <renderer-v2 type="graduatedSymbol" attr="{attr}" graduatedMethod="GraduatedColor" symbollevels="0" enableorderby="0" forceraster="0">
  <ranges>
{ranges}
  </ranges>
  <symbols>
{symbols}
  </symbols>
  <mode name="equal"/>
 </renderer-v2>
 <labeling type="simple">
  <settings calloutType="simple">
   <text-style fieldName="{label_field}" isExpression="0" fontSize="9" textColor="20,20,20,255" fontWeight="75"
               fontFamily="Sans Serif" namedStyle="Bold" textOpacity="1">
    <text-buffer bufferDraw="1" bufferSize="1" bufferSizeUnits="MM" bufferColor="255,255,255,255" bufferOpacity="1"/>
   </text-style>
   <placement placement="{placement}" dist="1" distUnits="MM" priority="5"/>
   <rendering scaleVisibility="0" obstacle="1" upsidedownLabels="0"/>
  </settings>
 </labeling>
</qgis>
"""


def _labeling(label_field: str, placement: str) -> str:
    return f""" <labeling type="simple">
  <settings calloutType="simple">
   <text-style fieldName="{label_field}" isExpression="0" fontSize="8" textColor="60,60,60,255" fontWeight="50"
               fontFamily="Sans Serif" textOpacity="1">
    <text-buffer bufferDraw="1" bufferSize="1" bufferSizeUnits="MM" bufferColor="255,255,255,255" bufferOpacity="1"/>
   </text-style>
   <placement placement="{placement}" dist="1" distUnits="MM" priority="5"/>
   <rendering scaleVisibility="0" obstacle="1" upsidedownLabels="0"/>
  </settings>
 </labeling>"""


def single_qml(color: str = "120,120,120,255", label_field: str = "reason") -> str:
    """A QGIS 3 style for the excluded places: one grey, hatched fill, labelled with ``label_field``."""
    layer = f"""<layer class="SimpleFill" enabled="1" pass="0" locked="0"><Option type="Map">
<Option name="color" type="QString" value="{color}"/><Option name="outline_color" type="QString" value="{color}"/>
<Option name="outline_width" type="QString" value="0.4"/><Option name="style" type="QString" value="b_diagonal"/></Option></layer>"""
    return f"""<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.22.0" styleCategories="Symbology|Labeling" labelsEnabled="1">
 <renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" forceraster="0">
  <symbols>
<symbol type="fill" name="0" alpha="1" clip_to_extent="1" force_rhr="0">{layer}</symbol>
  </symbols>
 </renderer-v2>
{_labeling(label_field, "1")}
</qgis>
"""
