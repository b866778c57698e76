"""Fetching open Dutch data for an area: PDOK OGC API Features and download APIs, Overpass (osmnx)."""
