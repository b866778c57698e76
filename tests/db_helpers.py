"""Shared test helpers for the database."""

TRUNCATE = """
TRUNCATE core.pand, core.verblijfsobject, core.perceel, core.bgt_vlak, core.poi, core.network_node,
         core.network_edge, core.landuse, core.signal, core.owner, result.candidate, result.access, result.score,
         result.outreach, result.candidate_history, result.exclusion, meta.raster, meta.stage, meta.run,
         meta.input CASCADE
"""
