-- Statements of plekzoeker/db/guards.py. Each starts with "-- name: <name>"; {t} is the table (staging or
-- core), {g} its geometry column, {cond} a WHERE condition composed from internal constants; values are
-- bound parameters.

-- name: extent_failing
-- the box of the rows a geometric check failed for, so the refusal can say what they look like
SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
FROM (SELECT ST_Extent({g}) AS e FROM {t} WHERE {cond}) s;

-- name: largest_geometry_groups
-- on a sample of at most ~20 000 rows: the rows sampled, the largest set of rows with one identical
-- geometry, and how many rows share their geometry with another row
SELECT coalesce(sum(n), 0), coalesce(max(n), 0), coalesce(sum(n) FILTER (WHERE n > 1), 0)
FROM (SELECT count(*) AS n FROM {t} TABLESAMPLE BERNOULLI (%(pct)s) REPEATABLE (42)
      GROUP BY ST_AsBinary({g})) s;

-- name: count_where
SELECT count(*) FROM {t} WHERE {cond};

-- name: count_by_municipality
-- rows per municipality code (the 4 digits every BAG identifier starts with); the row with a NULL code
-- counts the rows without one, so the sum is the total and one scan answers both
SELECT {m} AS m, count(*) FROM {t} WHERE {cond} GROUP BY 1;

-- name: current_oid
-- the table a name stands for now: a swap puts another table (another oid) under the name
SELECT to_regclass(%(name)s)::oid;
