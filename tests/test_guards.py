"""The plausibility guards of every load (plekzoeker/db/guards.py): the pure parts, the config keys, and the
shrink guard's scope (area, municipality, partition) on a real PostGIS."""
from dataclasses import replace

import geopandas as gpd
import pytest
import sqlalchemy as sa
from shapely import affinity

from plekzoeker.area import Area
from plekzoeker.db.guards import RD_DOMAIN, LoadPolicy, describe_extent
from plekzoeker.errors import ConfigError, SourceError
from plekzoeker.settings import load_config
from plekzoeker.sources.bag import load_bag
from plekzoeker.sources.rasters import check_bounds
from plekzoeker.sources.signals import load_signal


@pytest.mark.parametrize("box, expected", [
    ((5.3, 51.9, 5.4, 52.0), "lon/lat degrees"),
    ((51.9, 5.3, 52.0, 5.4), "axes swapped"),
    ((590_000, 6_790_000, 600_000, 6_800_000), "Web Mercator"),
    ((650_000, 5_760_000, 660_000, 5_770_000), "UTM zone 31N"),
    ((150_000, 440_000, 152_000, 442_000), None),  # Demodorp, in RD New: nothing to say
    ((1e6, 1e6, 2e6, 2e6), None),
])
def test_describe_extent_names_the_usual_mistakes(box, expected):
    said = describe_extent(box)
    assert (said is None) if expected is None else (expected in said and "EPSG:28992" in said), said


def test_raster_bounds_must_overlap_the_netherlands_and_the_area():
    check_bounds("ok.tif", (150_000, 440_000, 151_000, 441_000), LoadPolicy.default())
    with pytest.raises(SourceError, match="lon/lat degrees"):
        check_bounds("deg.tif", (5.9, 52.0, 5.95, 52.1), LoadPolicy.default())
    with pytest.raises(SourceError, match="outside the RD New domain"):
        check_bounds("far.tif", (RD_DOMAIN[2] + 1e5, 0, RD_DOMAIN[2] + 2e5, 1e5), LoadPolicy.default())
    far_area = LoadPolicy.default().for_area(Area(bbox=(10_000, 300_000, 20_000, 310_000)))
    with pytest.raises(SourceError, match="away from the area"):
        check_bounds("elsewhere.tif", (150_000, 440_000, 151_000, 441_000), far_area)
    near = replace(LoadPolicy.default(), area_margin_m=500).for_area(Area(bbox=(151_400, 440_000, 152_000, 441_000)))
    check_bounds("near.tif", (150_000, 440_000, 151_000, 441_000), near)


def test_ingest_config_keys_are_validated_and_become_the_policy():
    cfg = load_config(overrides={"ingest": {"max_shrink": 0.2, "allow_shrink": True}})
    p = LoadPolicy.from_config(cfg)
    assert (p.max_shrink, p.allow_shrink, p.max_implausible_share) == (0.2, True, 0.5)
    assert LoadPolicy.from_config(load_config(), allow_shrink=True).allow_shrink
    assert not LoadPolicy.from_config(load_config()).allow_shrink
    for bad in ({"max_shrink": 0}, {"max_shrink": 1.5}, {"allow_shrink": "yes"}, {"shrink_min_rows": -1},
                {"growth_warn_factor": 0.5}, {"max_implausble_share": 0.4}):
        with pytest.raises(ConfigError, match="config ingest"):
            load_config(overrides={"ingest": bad})


def _pand_count(engine, where="true"):
    with engine.connect() as c:
        return c.execute(sa.text(f"SELECT count(*) FROM core.pand WHERE {where}")).scalar()


def test_narrowing_the_area_on_purpose_is_not_a_shrink(db, demo_dir):
    """The shrink guard compares the current rows *inside the new load's area* with the new ones."""
    load_bag(db, demo_dir / "bag.gpkg")
    full = _pand_count(db)
    b = gpd.read_file(demo_dir / "bag.gpkg", layer="pand").total_bounds
    quarter = Area(bbox=(b[0], b[1], (b[0] + b[2]) / 2, (b[1] + b[3]) / 2))
    st = load_bag(db, demo_dir / "bag.gpkg", area=quarter)
    assert 0 < st.per_table["pand"] < full / 2
    assert _pand_count(db) == st.per_table["pand"]


def test_a_file_missing_one_municipality_is_refused(db, demo_dir, tmp_path):
    """A two-municipality file, then the same file without the second municipality: the table loses less than
    half its rows, the municipality all of them; refused per municipality, accepted with allow_shrink."""
    two, one = tmp_path / "two.gpkg", tmp_path / "one.gpkg"
    for layer in ("pand", "verblijfsobject"):
        gdf = gpd.read_file(demo_dir / "bag.gpkg", layer=layer)
        other = gdf.copy()
        other["identificatie"] = "9998" + other["identificatie"].str[4:]
        if layer == "verblijfsobject":
            other["pand_identificatie"] = "9998" + other["pand_identificatie"].str[4:]
        other["geometry"] = other.geometry.apply(lambda g: affinity.translate(g, 5000, 0))
        gdf.to_file(one, layer=layer, driver="GPKG")
        gpd.GeoDataFrame(pd_concat(gdf, other), crs=gdf.crs).to_file(two, layer=layer, driver="GPKG")
    load_bag(db, two)
    before = _pand_count(db)
    with pytest.raises(SourceError, match=r"core\.pand in GM9998: 634 → 0 rows") as err:
        load_bag(db, one)
    assert "--allow-shrink" in str(err.value) and "\n" not in str(err.value)
    assert _pand_count(db) == before
    load_bag(db, one, policy=replace(LoadPolicy.default(), allow_shrink=True))
    assert _pand_count(db) == before // 2


def pd_concat(a, b):
    import pandas as pd

    return pd.concat([a, b], ignore_index=True)


def test_signals_are_shrink_guarded_per_kind(db, demo_dir, tmp_path):
    """Each signal kind is its own partition: a short energy file is refused, the vacancy rows are not counted."""
    energy = (demo_dir / "energy.csv").read_text().splitlines()
    assert len(energy) - 1 >= 20  # the demo's export is big enough to be guarded
    load_signal(db, "energy", demo_dir / "energy.csv")
    load_signal(db, "vacancy", demo_dir / "vacancy.csv")
    short = tmp_path / "energy_short.csv"
    short.write_text("\n".join(energy[:4]) + "\n")
    with pytest.raises(SourceError, match=r"core\.signal in kind energy: \d+ → 3 rows"):
        load_signal(db, "energy", short)
    with db.connect() as c:
        n = c.execute(sa.text("SELECT count(*) FROM core.signal WHERE kind = 'energy'")).scalar()
    assert n == len(energy) - 1
