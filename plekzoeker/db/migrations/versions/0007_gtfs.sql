-- GTFS timetables as loaded by `plekzoeker ingest gtfs FEED.zip` (sources/gtfs.py), cut to the area.
-- Times are seconds after the service day's "noon minus 12h" as GTFS defines them: 25:10:00 = 90600
-- (a trip of the day before, running after midnight). Identifiers are the feed's, as text.
-- Columns are nullable so that the loader's staging copies (LIKE these tables) take malformed rows, which
-- validation then rejects into meta.reject with the reason; no row with a NULL required value is swapped in.
CREATE TABLE core.gtfs_stop (
    stop_id         text PRIMARY KEY,
    stop_name       text,
    location_type   integer,             -- 0/NULL stop or platform, 1 station
    parent_station  text,
    input_id        bigint,
    geom            geometry(Point, 28992) NOT NULL
);
CREATE INDEX gtfs_stop_geom ON core.gtfs_stop USING gist (geom);
CREATE TABLE core.gtfs_route (
    route_id         text PRIMARY KEY,
    agency_id        text,
    route_short_name text,
    route_long_name  text,
    route_type       integer,   -- 0 tram, 1 metro, 2 rail, 3 bus, ... (extended types 100-1700 too)
    input_id         bigint
);
CREATE TABLE core.gtfs_trip (
    trip_id     text PRIMARY KEY,
    route_id    text,
    service_id  text,
    input_id    bigint
);
CREATE TABLE core.gtfs_stop_time (
    trip_id        text,
    stop_sequence  integer,
    stop_id        text,
    arrival_s      integer,              -- NULL: not a timepoint (interpolated when routing)
    departure_s    integer,
    input_id       bigint
);
CREATE INDEX gtfs_stop_time_ix0 ON core.gtfs_stop_time (trip_id, stop_sequence);
CREATE TABLE core.gtfs_calendar (
    service_id  text PRIMARY KEY,
    weekdays    text,           -- seven 0/1 flags, Monday first ('1111100' = weekdays)
    start_date  date,
    end_date    date,
    input_id    bigint
);
CREATE TABLE core.gtfs_calendar_date (
    service_id      text,
    date            date,
    exception_type  integer,    -- 1 service added on that date, 2 removed
    input_id        bigint
);
CREATE INDEX gtfs_calendar_date_ix0 ON core.gtfs_calendar_date (date);
CREATE TABLE core.gtfs_transfer (
    from_stop_id       text,
    to_stop_id         text,
    transfer_type      integer, -- 0 recommended, 1 timed, 2 min_transfer_time, 3 not possible
    min_transfer_time  integer,          -- seconds
    input_id           bigint
);
