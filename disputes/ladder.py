"""Where each page of a dispute's ladder starts, so that any page is read as a range.

The ladder shows a dispute's steps in time order (date_key, undated last; sequence; pk),
PAGE_SIZE to a page. Counting the steps and skipping to page n with OFFSET both read the
dispute's whole index, on every request: with 100,000 steps, about 7 ms a page on
PostgreSQL and 6 ms on SQLite, growing with the dispute. Instead, one statement numbers the
steps in the database (a window function over the time-order index) and returns the
number of steps and the time-order key of every PAGE_SIZE-th step, the first of each page;
a page is then the steps between its start and the next page's, an index range.

The boundaries depend on the record, so they are kept in the default cache (each worker's
own memory) under the record's version (caching.request_version): any edit gives the record
a new version, and the next request numbers the steps afresh (with 100,000 steps, 50 ms on PostgreSQL and 100 ms on SQLite,
once per worker and edit). A version is read before the data the page is made from, so
boundaries computed from newer data are only ever used with that newer data.
"""

from __future__ import annotations

from django.core.cache import caches
from django.db import connection
from django.db.models import Q

PAGE_SIZE = 50
CACHE_ALIAS = "default"

BOUNDS_SQL = f"""
SELECT total, date_key, sequence, id FROM (
    SELECT id, date_key, sequence, COUNT(*) OVER () AS total,
           ROW_NUMBER() OVER (ORDER BY date_key ASC NULLS LAST, sequence ASC, id ASC) - 1 AS n
    FROM disputes_event WHERE dispute_id = %s
) numbered WHERE n %% {PAGE_SIZE} = 0 ORDER BY n
"""


def bounds(dispute_id: int, version: int) -> tuple[int, list[tuple]]:
    """The dispute's number of steps and the time-order key (date_key, sequence, pk) of the
    first step of each page, read once per record version."""
    cache = caches[CACHE_ALIAS]
    key = f"ladder-bounds:{dispute_id}:{version}"
    found = cache.get(key)
    if found is None:
        with connection.cursor() as cursor:
            cursor.execute(BOUNDS_SQL, [dispute_id])
            rows = cursor.fetchall()
        found = (rows[0][0] if rows else 0, [tuple(row[1:]) for row in rows])
        # No expiry: a new version is a new key, and the cache culls the old ones.
        cache.set(key, found, timeout=None)
    return found


def page_filter(starts: list[tuple], page: int) -> Q:
    """The steps of page `page` (1-based, within range): from its first step up to the next
    page's first. Each bound is also given as a plain range on date_key, so that the
    database reads the index between them rather than from the dispute's first step."""
    start = starts[page - 1]
    end = starts[page] if page < len(starts) else None
    day, sequence, _pk = start
    if day is None:  # undated steps come last: the page and the next are undated
        after = Q(date_key__isnull=True, sequence__gte=sequence) & _later_in_day(start)
        return after & _undated_before(end)
    dated = Q(date_key__gte=day) & (Q(date_key__gt=day) | _later_in_day(start))
    if end is not None and end[0] is not None:
        return dated & Q(date_key__lte=end[0]) & (Q(date_key__lt=end[0]) | _earlier_in_day(end))
    # The page runs on past the last dated step into the undated ones (up to `end`).
    return dated | (Q(date_key__isnull=True) & _undated_before(end))


def _undated_before(end) -> Q:
    """Among undated steps, those before `end` (an undated step, or None for all)."""
    if end is None:
        return Q()
    return Q(sequence__lte=end[1]) & _earlier_in_day(end)


def _later_in_day(key) -> Q:
    """At or after `key` among steps with its date_key."""
    _day, sequence, pk = key
    return Q(sequence__gt=sequence) | Q(sequence=sequence, pk__gte=pk)


def _earlier_in_day(key) -> Q:
    """Before `key` among steps with its date_key."""
    _day, sequence, pk = key
    return Q(sequence__lt=sequence) | Q(sequence=sequence, pk__lt=pk)
