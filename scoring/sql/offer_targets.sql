-- Every offer valid on :day resolved to the place it names: a building (kind vacant_building, key
-- pand:<id>) or a parcel (undeveloped_plot, perceel:<aanduiding>, with the parcel's identificatie so a
-- plot candidate made of several parcels matches too). By pand id, by unit id (the unit's building),
-- by address (the unit at that address) or by kadastrale aanduiding. The contact column is never read.
WITH o AS (
    SELECT row_number() OVER (ORDER BY verblijfsobject_id, pand_id, postcode, huisnummer, kadastrale_aanduiding) AS offer_no, *
    FROM core.offer
    WHERE (offered_from IS NULL OR offered_from <= :day) AND (offered_until IS NULL OR offered_until >= :day)
),
t AS (
    SELECT o.offer_no, o.pand_id AS pand_id, NULL::text AS unit_id, NULL::text AS aanduiding FROM o WHERE o.pand_id IS NOT NULL
    UNION ALL
    SELECT o.offer_no, v.pand_ids[1], v.identificatie, NULL
    FROM o JOIN core.verblijfsobject v ON o.pand_id IS NULL AND v.identificatie = o.verblijfsobject_id
    UNION ALL
    SELECT o.offer_no, v.pand_ids[1], v.identificatie, NULL
    FROM o JOIN core.verblijfsobject v ON o.pand_id IS NULL AND o.verblijfsobject_id IS NULL AND o.postcode IS NOT NULL
        AND v.postcode = o.postcode AND v.huisnummer = o.huisnummer
        AND coalesce(v.huisletter, '') = coalesce(o.huisletter, '') AND coalesce(v.toevoeging, '') = coalesce(o.toevoeging, '')
    UNION ALL
    SELECT o.offer_no, NULL, NULL, o.kadastrale_aanduiding
    FROM o WHERE o.pand_id IS NULL AND o.verblijfsobject_id IS NULL AND o.postcode IS NULL AND o.kadastrale_aanduiding IS NOT NULL
)
SELECT t.offer_no, CASE WHEN t.aanduiding IS NULL THEN 'vacant_building' ELSE 'undeveloped_plot' END AS kind,
       CASE WHEN t.aanduiding IS NULL THEN 'pand:' || t.pand_id ELSE 'perceel:' || t.aanduiding END AS target_key,
       t.pand_id, t.unit_id, p.identificatie AS perceel_id, o.offered_from, o.offered_until, o.conditions
FROM t JOIN o USING (offer_no)
LEFT JOIN core.perceel p ON p.kadastrale_aanduiding = t.aanduiding
WHERE t.pand_id IS NOT NULL OR t.aanduiding IS NOT NULL
ORDER BY t.offer_no;
