"""Child process of the ingest benchmark: one plekzoeker load, in its own process (own peak RSS).

    python -m benchmarks.load_child BAG.gpkg         # the verblijfsobject layer of a BAG GeoPackage
    python -m benchmarks.load_child osm TOWN.osm.pbf # streets, POIs, land use (what `ingest osm` loads)

The BAG load uses the reader ``plekzoeker ingest bag`` uses for that layer (sources/bag.py: Arrow
tables, binary COPY); the OSM load is ``load_osm`` with the categories of the default config.
"""
import json
import logging
import sys

from plekzoeker.db.engine import get_engine
from plekzoeker.db.load import load_input

if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    if sys.argv[1] == "osm":
        from plekzoeker.db.guards import LoadPolicy
        from plekzoeker.settings import load_config
        from plekzoeker.sources.osm import categories_from_config, load_osm

        path, cfg = sys.argv[2], load_config()
        # the benchmark loads towns of other sizes into one database: as `plekzoeker ingest osm --allow-shrink`
        st = load_osm(get_engine(start=False), path, categories=categories_from_config(cfg), force=True,
                      policy=LoadPolicy.from_config(cfg, allow_shrink=True))
    else:
        from plekzoeker.sources.bag import VERBLIJFSOBJECT
        from plekzoeker.sources.bag_read import read_bag_verblijfsobject_arrow

        path = sys.argv[1]
        st = load_input(get_engine(start=False), "bench-bag", path,
                        {VERBLIJFSOBJECT: lambda: read_bag_verblijfsobject_arrow(path)}, force=True)
    print(json.dumps({"rows_in": st.rows_in, "rows_out": st.rows_out, "seconds": st.seconds}))
