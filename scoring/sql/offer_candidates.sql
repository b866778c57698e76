-- The outlines of the offered buildings that detection did not find (:pand_ids), for the candidates
-- scoring/offers.py makes of them: the pand polygon and a point on it (the access point of a building
-- without units). Their units, signals and figures come from sql/vacancy_units.sql like any building's,
-- their parcels' usable area from sql/plots.sql like any plot's.
SELECT p.identificatie AS pand_id, ST_AsBinary(p.geom) AS wkb,
       encode(ST_AsEWKB(ST_PointOnSurface(p.geom)), 'hex') AS surface_point
FROM core.pand p
WHERE p.identificatie = ANY(CAST(:pand_ids AS text[]))
ORDER BY p.identificatie;
