-- References between the staged GTFS tables of one load (sources/gtfs.py runs these before the swap).
-- {name} placeholders are the staging tables raw.gtfs_*__<input_id>; %(input_id)s the load's id.
-- Each statement moves the rows whose reference is unknown into meta.reject with the reason.
-- name: trip_route
WITH bad AS (DELETE FROM {trip} t WHERE NOT EXISTS (SELECT 1 FROM {route} r WHERE r.route_id = t.route_id) RETURNING t.*)
INSERT INTO meta.reject (input_id, row_ref, reason, raw)
SELECT %(input_id)s, trip_id, 'gtfs_trip: route_id not in routes.txt', to_jsonb(bad)::text FROM bad;
-- name: trip_service
WITH bad AS (DELETE FROM {trip} t WHERE NOT EXISTS (SELECT 1 FROM {calendar} c WHERE c.service_id = t.service_id)
                                   AND NOT EXISTS (SELECT 1 FROM {calendar_date} d WHERE d.service_id = t.service_id)
             RETURNING t.*)
INSERT INTO meta.reject (input_id, row_ref, reason, raw)
SELECT %(input_id)s, trip_id, 'gtfs_trip: service_id in neither calendar.txt nor calendar_dates.txt', to_jsonb(bad)::text
FROM bad;
-- name: stop_time_stop
WITH bad AS (DELETE FROM {stop_time} t WHERE NOT EXISTS (SELECT 1 FROM {stop} s WHERE s.stop_id = t.stop_id) RETURNING t.*)
INSERT INTO meta.reject (input_id, row_ref, reason, raw)
SELECT %(input_id)s, trip_id || '#' || stop_sequence, 'gtfs_stop_time: stop_id not in stops.txt', to_jsonb(bad)::text
FROM bad;
-- name: stop_time_trip
WITH bad AS (DELETE FROM {stop_time} t WHERE NOT EXISTS (SELECT 1 FROM {trip} r WHERE r.trip_id = t.trip_id) RETURNING t.*)
INSERT INTO meta.reject (input_id, row_ref, reason, raw)
SELECT %(input_id)s, trip_id || '#' || stop_sequence, 'gtfs_stop_time: trip_id not in trips.txt (or its trip was rejected)',
       to_jsonb(bad)::text
FROM bad;
