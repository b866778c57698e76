"""Child process of the ingest benchmark: load the verblijfsobject layer of a BAG GeoPackage with plekzoeker."""
import json
import logging
import sys

from plekzoeker.db.engine import get_engine
from plekzoeker.db.load import load_input
from plekzoeker.sources.bag import VERBLIJFSOBJECT
from plekzoeker.sources.bag_read import read_bag_verblijfsobject

if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    path = sys.argv[1]
    st = load_input(get_engine(start=False), "bench-bag", path, {VERBLIJFSOBJECT: lambda: read_bag_verblijfsobject(path)},
                    force=True)
    print(json.dumps({"rows_in": st.rows_in, "rows_out": st.rows_out, "seconds": st.seconds}))
