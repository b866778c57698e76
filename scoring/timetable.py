"""The calls of one service day, from the GTFS tables: which trips run, at which times (pure pandas/numpy).

* :func:`active_services`: a service runs on a date when calendar.txt says so (date within
  ``start_date..end_date`` and the weekday flag set) and calendar_dates.txt does not remove it on that
  date (exception 2), or when calendar_dates.txt adds it on that date (exception 1). Feeds with only
  calendar_dates.txt (common, e.g. the Dutch national feed) work the same way.
* :func:`pick_date`: with no date configured, the date of the wanted weekday with the most running
  trips within the feed's dates (the earliest of equals), so an unchanged feed gives the same day.
* :func:`day_calls`: the calls that can be used on day D: the trips of D at their times, the trips
  of D-1 at their times minus 24 h (a ``25:10:00`` call of yesterday's service is 01:10 today), and
  the trips of D+1 plus 24 h (a journey from a late window running past midnight). Each (trip, day)
  is its own trip instance. Missing times (not timepoints) are interpolated linearly by position
  between the trip's neighbouring timepoints; a trip whose first or last call has no time is dropped
  (GTFS requires both).
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

DAY_S = 86_400


def active_services(date: dt.date, calendar: pd.DataFrame, calendar_dates: pd.DataFrame) -> set[str]:
    """service_ids running on ``date`` (calendar: service_id, weekdays '1111100', start_date, end_date;
    calendar_dates: service_id, date, exception_type)."""
    on: set[str] = set()
    if len(calendar):
        c = calendar
        within = (pd.to_datetime(c["start_date"]).dt.date <= date) & (pd.to_datetime(c["end_date"]).dt.date >= date)
        flag = c["weekdays"].str[date.weekday()] == "1"
        on = set(c.loc[within & flag, "service_id"])
    if len(calendar_dates):
        d = calendar_dates[pd.to_datetime(calendar_dates["date"]).dt.date == date]
        on |= set(d.loc[d["exception_type"] == 1, "service_id"])
        on -= set(d.loc[d["exception_type"] == 2, "service_id"])
    return on


def feed_dates(calendar: pd.DataFrame, calendar_dates: pd.DataFrame) -> tuple[dt.date, dt.date] | None:
    """First and last date the feed mentions (None for an empty feed)."""
    days = []
    if len(calendar):
        days += [pd.to_datetime(calendar["start_date"]).min(), pd.to_datetime(calendar["end_date"]).max()]
    if len(calendar_dates):
        d = pd.to_datetime(calendar_dates["date"])
        days += [d.min(), d.max()]
    days = [x for x in days if not pd.isna(x)]
    return (min(days).date(), max(days).date()) if days else None


def pick_date(weekday: int, trips: pd.DataFrame, calendar: pd.DataFrame, calendar_dates: pd.DataFrame
              ) -> dt.date | None:
    """The date of ``weekday`` (0 = Monday) with the most running trips in the feed's range."""
    span = feed_dates(calendar, calendar_dates)
    if span is None:
        return None
    per_service = trips.groupby("service_id").size()
    first = span[0] + dt.timedelta(days=(weekday - span[0].weekday()) % 7)
    best, best_n = None, -1
    day = first
    while day <= span[1]:
        n = int(per_service.reindex(list(active_services(day, calendar, calendar_dates))).fillna(0).sum())
        if n > best_n:
            best, best_n = day, n
        day += dt.timedelta(days=7)
    return best


def interpolate_times(calls: pd.DataFrame) -> pd.DataFrame:
    """Fill missing arrival/departure seconds (calls sorted by trip, stop_sequence): arrival and departure
    stand in for each other, then linear by position between timepoints; trips with an untimed first or
    last call are dropped."""
    c = calls.copy()
    c["arrival_s"] = c["arrival_s"].fillna(c["departure_s"])
    c["departure_s"] = c["departure_s"].fillna(c["arrival_s"])
    t = c["departure_s"].to_numpy(dtype=float)
    trip = c["trip_id"].to_numpy()
    n = len(c)
    if n == 0 or not np.isnan(t).any():
        return c.astype({"arrival_s": "int64", "departure_s": "int64"})
    start = np.r_[True, trip[1:] != trip[:-1]]
    end = np.r_[trip[1:] != trip[:-1], True]
    bad_trip = pd.Series(np.isnan(t) & (start | end)).groupby(trip).transform("any").to_numpy()
    c, t, trip = c[~bad_trip], t[~bad_trip], trip[~bad_trip]
    pos = np.arange(len(c))
    known = ~np.isnan(t)
    prev_i = np.maximum.accumulate(np.where(known, pos, -1))
    next_i = np.minimum.accumulate(np.where(known, pos, len(c))[::-1])[::-1]
    gap = ~known
    p, q = prev_i[gap], next_i[gap]
    frac = (pos[gap] - p) / (q - p)
    filled = t.copy()
    filled[gap] = np.round(t[p] + frac * (t[q] - t[p]))
    c = c.assign(arrival_s=np.where(gap, filled, c["arrival_s"]), departure_s=np.where(gap, filled, c["departure_s"]))
    return c.astype({"arrival_s": "int64", "departure_s": "int64"})


def day_calls(date: dt.date, stop_times: pd.DataFrame, trips: pd.DataFrame, calendar: pd.DataFrame,
              calendar_dates: pd.DataFrame, span: tuple[int, int] | None = None) -> pd.DataFrame:
    """Calls usable on ``date``: columns trip_key ('<trip_id>@<offset>'), stop_id, stop_sequence,
    arrival_s, departure_s (seconds of ``date``, may be negative or beyond 24 h).

    ``span`` (seconds of ``date``): keep only the trip instances running at some time within it
    (first departure <= span end and last arrival >= span start). A router that only scans connections
    departing within the span gets the same answers; the national feed's three days shrink to the
    few hours asked for (memory: ~10^7 calls a day)."""
    st = stop_times.sort_values(["trip_id", "stop_sequence"], kind="stable")
    st = interpolate_times(st)
    if span is not None and len(st):
        tid = st["trip_id"].to_numpy()
        first = np.r_[True, tid[1:] != tid[:-1]]
        last = np.r_[tid[1:] != tid[:-1], True]
        size = np.diff(np.r_[np.flatnonzero(first), len(tid)])
        t_first = np.repeat(st["departure_s"].to_numpy()[first], size)
        t_last = np.repeat(st["arrival_s"].to_numpy()[last], size)
    parts = []
    for offset in (-1, 0, 1):
        day = date + dt.timedelta(days=offset)
        running = st["trip_id"].isin(set(trips.loc[trips["service_id"].isin(active_services(day, calendar, calendar_dates)),
                                                   "trip_id"])).to_numpy()
        if span is not None and len(st):
            running = running & (t_first + offset * DAY_S <= span[1]) & (t_last + offset * DAY_S >= span[0])
        sel = st[running]
        if len(sel):
            parts.append(sel.assign(trip_key=sel["trip_id"] + f"@{offset}",
                                    arrival_s=sel["arrival_s"] + offset * DAY_S,
                                    departure_s=sel["departure_s"] + offset * DAY_S))
    cols = ["trip_key", "stop_id", "stop_sequence", "arrival_s", "departure_s"]
    return pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)
