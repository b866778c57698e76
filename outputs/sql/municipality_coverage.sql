-- Per municipality (the 4-digit prefix of the BAG id): units of the scanned uses, and how many of them
-- any signal row speaks about (by BAG id or by address). A low share means the vacancy flags rest on BAG alone.
WITH u AS (
    SELECT 'GM' || substr(v.identificatie, 1, 4) AS municipality, v.identificatie, v.postcode, v.huisnummer,
           v.huisletter, v.toevoeging
    FROM core.verblijfsobject v
    WHERE v.gebruiksdoelen && CAST(:uses AS text[])
)
SELECT u.municipality, count(*) AS units,
       count(*) FILTER (WHERE EXISTS (
           SELECT 1 FROM core.signal s
           WHERE s.verblijfsobject_id = u.identificatie
              OR (s.verblijfsobject_id IS NULL AND s.postcode = u.postcode AND s.huisnummer = u.huisnummer
                  AND coalesce(s.huisletter, '') = coalesce(u.huisletter, '')
                  AND coalesce(s.toevoeging, '') = coalesce(u.toevoeging, '')))) AS units_with_signal
FROM u
GROUP BY u.municipality
ORDER BY u.municipality;
