"""Write LVBAG XML extract files (PND, VBO) shaped exactly like the real delivery in tests/data/lvbag.

The envelope (namespaces, bagInfo, standBestand) is copied from the real Doesburg files and every
record uses the real element order, id domains and gml:id pattern, so GDAL's LVBAG driver and
plekzoeker's reader see what they see in a national extract. Used by tests/test_special_objects.py.

A record: ``pand(id, ring, status, bouwjaar)`` with a ring of (x, y) in RD New; ``vbo(id, pand_id, xy,
uses, area, status)``. Only current versions (one voorkomen without eindGeldigheid) are written.
"""
from __future__ import annotations

import re
from pathlib import Path

REAL = Path(__file__).resolve().parent / "data" / "lvbag"
TAIL = "    </sl:standBestand>\n</sl-bag-extract:bagStand>\n"


def _head(real: Path, municipality: str) -> str:
    text = real.read_text(encoding="utf-8")
    head = text[:text.index("        <sl:stand>")]
    return re.sub(r"<selecties-extract:GemeenteIdentificatie>\d{4}<",
                  f"<selecties-extract:GemeenteIdentificatie>{municipality}<", head)


def _voorkomen(begin: str) -> str:
    return f"""                    <Objecten:voorkomen>
                        <Historie:Voorkomen>
                            <Historie:voorkomenidentificatie>1</Historie:voorkomenidentificatie>
                            <Historie:beginGeldigheid>{begin}</Historie:beginGeldigheid>
                            <Historie:tijdstipRegistratie>{begin}T10:00:00.000</Historie:tijdstipRegistratie>
                            <Historie:BeschikbaarLV>
                                <Historie:tijdstipRegistratieLV>{begin}T10:15:00.000</Historie:tijdstipRegistratieLV>
                            </Historie:BeschikbaarLV>
                        </Historie:Voorkomen>
                    </Objecten:voorkomen>
"""


def pand(ident: str, ring: list[tuple[float, float]], status: str = "Pand in gebruik", bouwjaar: int = 1975,
         begin: str = "2012-03-01") -> str:
    pts = list(ring) + ([ring[0]] if ring[0] != ring[-1] else [])
    pos = " ".join(f"{x:.3f} {y:.3f} 0.0" for x, y in pts)
    return f"""        <sl:stand>
            <sl-bag-extract:bagObject>
                <Objecten:Pand>
                    <Objecten:identificatie domein="NL.IMBAG.Pand">{ident}</Objecten:identificatie>
                    <Objecten:geometrie>
                        <gml:Polygon srsName="urn:ogc:def:crs:EPSG::28992" srsDimension="3" gml:id="PND_{ident}_1_1330596000">
                            <gml:exterior>
                                <gml:LinearRing>
                                    <gml:posList count="{len(pts)}">{pos}</gml:posList>
                                </gml:LinearRing>
                            </gml:exterior>
                        </gml:Polygon>
                    </Objecten:geometrie>
                    <Objecten:oorspronkelijkBouwjaar>{bouwjaar}</Objecten:oorspronkelijkBouwjaar>
                    <Objecten:status>{status}</Objecten:status>
                    <Objecten:geconstateerd>N</Objecten:geconstateerd>
                    <Objecten:documentdatum>{begin}</Objecten:documentdatum>
                    <Objecten:documentnummer>BAG/PVC{begin.replace('-', '')}</Objecten:documentnummer>
{_voorkomen(begin)}                </Objecten:Pand>
            </sl-bag-extract:bagObject>
        </sl:stand>
"""


def vbo(ident: str, pand_id: str, xy: tuple[float, float], uses: list[str], area: int,
        status: str = "Verblijfsobject in gebruik", begin: str = "2012-03-01") -> str:
    """The hoofdadres reference points at a nummeraanduiding (id 2 in the object-type digits) that the
    extract does not hold, so the unit has no address, as in a partial extract."""
    doelen = "".join(f"                    <Objecten:gebruiksdoel>{u}</Objecten:gebruiksdoel>\n" for u in uses)
    num = ident[:4] + "20" + ident[6:]
    return f"""        <sl:stand>
            <sl-bag-extract:bagObject>
                <Objecten:Verblijfsobject>
                    <Objecten:heeftAlsHoofdadres>
                        <Objecten-ref:NummeraanduidingRef domein="NL.IMBAG.Nummeraanduiding">{num}</Objecten-ref:NummeraanduidingRef>
                    </Objecten:heeftAlsHoofdadres>
{_voorkomen(begin)}                    <Objecten:identificatie domein="NL.IMBAG.Verblijfsobject">{ident}</Objecten:identificatie>
                    <Objecten:geometrie>
                        <Objecten:punt>
                            <gml:Point srsName="urn:ogc:def:crs:EPSG::28992" srsDimension="3" gml:id="VBO_{ident}_1_1330596000">
                                <gml:pos>{xy[0]:.3f} {xy[1]:.3f} 0.0</gml:pos>
                            </gml:Point>
                        </Objecten:punt>
                    </Objecten:geometrie>
{doelen}                    <Objecten:oppervlakte>{area}</Objecten:oppervlakte>
                    <Objecten:status>{status}</Objecten:status>
                    <Objecten:geconstateerd>N</Objecten:geconstateerd>
                    <Objecten:documentdatum>{begin}</Objecten:documentdatum>
                    <Objecten:documentnummer>BAG/PVC{begin.replace('-', '')}</Objecten:documentnummer>
                    <Objecten:maaktDeelUitVan>
                        <Objecten-ref:PandRef domein="NL.IMBAG.Pand">{pand_id}</Objecten-ref:PandRef>
                    </Objecten:maaktDeelUitVan>
                </Objecten:Verblijfsobject>
            </sl-bag-extract:bagObject>
        </sl:stand>
"""


def write_extract(folder: Path, municipality: str, panden: list[str], vbos: list[str], day: str = "01012026") -> None:
    """``<gm>PND<day>-000001.xml`` and ``<gm>VBO<day>-000001.xml`` in ``folder`` (the delivery's names)."""
    folder.mkdir(parents=True, exist_ok=True)
    for code, records in (("PND", panden), ("VBO", vbos)):
        real = next(REAL.glob(f"0221{code}*.xml"))
        (folder / f"{municipality}{code}{day}-000001.xml").write_text(
            _head(real, municipality) + "".join(records) + TAIL, encoding="utf-8")
