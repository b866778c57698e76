-- result.access.count_within (POIs of the category within a radius) was filled on every score run but
-- read by no criterion, output, map or list; issue 20 removed it with the code that computed it.
-- The result.* tables are rewritten by every score run, so nothing is lost.
ALTER TABLE result.access DROP COLUMN IF EXISTS count_within;
