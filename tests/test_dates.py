"""Fuzzy dates: shown at their precision, sorted with the less precise first within their
period, compared only where the precision allows, and elapsed time no sharper than the dates."""

import pytest

from disputes.dates import FuzzyDate, Precision, elapsed


@pytest.mark.parametrize(
    ("date", "shown"),
    [
        (FuzzyDate(2008), "2008"),
        (FuzzyDate(2011, 3), "March 2011"),
        (FuzzyDate(2011, 12, 28), "28 Dec 2011"),
        (
            FuzzyDate(2011, 12, 28, "year: not stated, taken from the order of events"),
            "28 Dec 2011 (year inferred)",
        ),
        (
            FuzzyDate(2011, 11, None, "year: the first November after March 2011"),
            "November 2011 (year inferred)",
        ),
        (FuzzyDate(), "date unknown"),
        (FuzzyDate(None, None, None, "year: unknown"), "date unknown"),
    ],
)
def test_a_date_is_shown_at_its_own_precision(date, shown):
    assert str(date) == shown


def test_an_inferred_note_without_a_named_part_reads_as_date_inferred():
    assert str(FuzzyDate(2011, inferred="taken from context")) == "2011 (date inferred)"


@pytest.mark.parametrize(
    ("date", "precision", "iso"),
    [
        (FuzzyDate(), Precision.UNKNOWN, ""),
        (FuzzyDate(2008), Precision.YEAR, "2008"),
        (FuzzyDate(2011, 3), Precision.MONTH, "2011-03"),
        (FuzzyDate(2011, 12, 28), Precision.DAY, "2011-12-28"),
    ],
)
def test_precision_and_iso_follow_the_parts_given(date, precision, iso):
    assert date.precision == precision
    assert date.iso() == iso


def test_sorting_puts_the_less_precise_date_first_within_its_period():
    dates = [
        FuzzyDate(2011, 12, 28),
        FuzzyDate(2011, 3),
        FuzzyDate(2012),
        FuzzyDate(2011),
        FuzzyDate(2011, 3, 1),
        FuzzyDate(2008),
    ]
    ordered = sorted(dates, key=lambda d: d.low_key)
    assert [str(d) for d in ordered] == [
        "2008",
        "2011",
        "March 2011",
        "1 Mar 2011",
        "28 Dec 2011",
        "2012",
    ]


@pytest.mark.parametrize(
    ("earlier", "later", "certain"),
    [
        (FuzzyDate(2008), FuzzyDate(2010), True),
        (FuzzyDate(2010), FuzzyDate(2011, 3), True),
        (FuzzyDate(2011, 3), FuzzyDate(2011, 11), True),
        (FuzzyDate(2011, 11, 30), FuzzyDate(2011, 12, 1), True),
        (FuzzyDate(2011), FuzzyDate(2011, 3), False),
        (FuzzyDate(2011, 3), FuzzyDate(2011), False),
        (FuzzyDate(2011, 11), FuzzyDate(2011, 11, 15), False),
        (FuzzyDate(2011, 3, 1), FuzzyDate(2011, 3, 1), False),
        (FuzzyDate(), FuzzyDate(2011), False),
        (FuzzyDate(2011), FuzzyDate(), False),
    ],
)
def test_certainly_before_only_where_the_precision_allows(earlier, later, certain):
    assert earlier.certainly_before(later) is certain
    if certain:
        assert not later.certainly_before(earlier)


@pytest.mark.parametrize(
    ("date", "first", "last"),
    [
        (FuzzyDate(2011), "2011-01-01", "2011-12-31"),
        (FuzzyDate(2012, 2), "2012-02-01", "2012-02-29"),
        (FuzzyDate(2011, 2), "2011-02-01", "2011-02-28"),
        (FuzzyDate(2011, 12, 28), "2011-12-28", "2011-12-28"),
    ],
)
def test_a_date_spans_the_days_it_can_mean(date, first, last):
    assert date.first_day().isoformat() == first
    assert date.last_day().isoformat() == last


@pytest.mark.parametrize(
    ("date", "problem"),
    [
        (
            FuzzyDate(2011, 2, 29),
            "2011-02-29 is not a calendar date: correct the day or the month.",
        ),
        (
            FuzzyDate(2011, 4, 31),
            "2011-04-31 is not a calendar date: correct the day or the month.",
        ),
        (FuzzyDate(2012, 2, 29), None),
        (FuzzyDate(2000, 2, 29), None),
        (FuzzyDate(2011, 2), None),
    ],
)
def test_validate_names_a_day_that_is_not_in_its_month(date, problem):
    assert date.validate() == problem


@pytest.mark.parametrize(
    ("cause", "response", "text"),
    [
        # The article's own steps.
        (FuzzyDate(2008), FuzzyDate(2011, 3), "about 3 years"),
        (FuzzyDate(2010), FuzzyDate(2011, 3), "2 to 15 months"),
        (FuzzyDate(2011), FuzzyDate(2011), "within the year"),
        (FuzzyDate(2011, 3), FuzzyDate(2011), "up to 10 months"),
        (FuzzyDate(2011, 11), FuzzyDate(2011, 11), "within the month"),
        (FuzzyDate(2011, 3), FuzzyDate(2011, 12, 28), "about 9 months"),
        (FuzzyDate(2011, 11), FuzzyDate(2011, 12, 28), "4 to 8 weeks"),
        # Wider ranges are said as ranges, not rounded to one figure.
        (FuzzyDate(2008), FuzzyDate(2011), "2 to 4 years"),
        (FuzzyDate(2010), FuzzyDate(2011, 12, 28), "1 to 2 years"),
        (FuzzyDate(2011), FuzzyDate(2011, 3), "up to 3 months"),
        # Exact dates give exact delays.
        (FuzzyDate(2011, 3, 1), FuzzyDate(2011, 3, 1), "the same day"),
        (FuzzyDate(2011, 3, 1), FuzzyDate(2011, 3, 2), "1 day"),
        (FuzzyDate(2011, 3, 1), FuzzyDate(2011, 3, 20), "19 days"),
        (FuzzyDate(2011, 3, 1), FuzzyDate(2011, 5, 20), "about 3 months"),
        (FuzzyDate(2008, 1, 1), FuzzyDate(2009, 1, 20), "about a year"),
        # What cannot be said.
        (FuzzyDate(), FuzzyDate(2011), "unknown"),
        (FuzzyDate(2011), FuzzyDate(), "unknown"),
        (FuzzyDate(2011, 12), FuzzyDate(2011, 3), "before its cause"),
    ],
)
def test_elapsed_is_no_more_precise_than_the_dates(cause, response, text):
    assert elapsed(cause, response) == text


def test_elapsed_starts_a_date_at_its_not_before_bound():
    """The article's sentencing: "2011, not before March 2011", answered in November 2011,
    came at most 9 months before (not 11, as from January)."""
    sentenced, roundup = FuzzyDate(2011), FuzzyDate(2011, 11)
    assert elapsed(sentenced, roundup) == "up to 11 months"
    assert elapsed(sentenced, roundup, FuzzyDate(2011, 3)) == "up to 9 months"
    # A response bound moves the shortest delay; a bound that says nothing new moves nothing.
    assert elapsed(FuzzyDate(2011, 3), FuzzyDate(2011), None, FuzzyDate(2011, 6)) == (
        "2 to 10 months"
    )
    assert elapsed(sentenced, roundup, FuzzyDate(2011)) == "up to 11 months"
    assert elapsed(sentenced, roundup, FuzzyDate()) == "up to 11 months"
    # a bound that puts the cause after the response's last day says so, as dates do
    assert elapsed(sentenced, FuzzyDate(2011, 10), FuzzyDate(2011, 11)) == "before its cause"


@pytest.mark.parametrize(
    ("date", "not_before", "shown"),
    [
        # The article's sentence: the year inferred, the month not given, after March 2011.
        (
            FuzzyDate(2011, inferred="year: not stated; after the March 2011 detention"),
            FuzzyDate(2011, 3, inferred="after the pilots' detention (line 4)"),
            "2011, not before March 2011 (year inferred)",
        ),
        (FuzzyDate(2011), FuzzyDate(2011, 3), "2011, not before March 2011"),
        (FuzzyDate(2011, 12), FuzzyDate(2011, 12, 20), "December 2011, not before 20 Dec 2011"),
        # A bound that says no more than the date itself is left out.
        (FuzzyDate(2011), None, "2011"),
        (FuzzyDate(2011), FuzzyDate(), "2011"),
        (FuzzyDate(2011), FuzzyDate(2011), "2011"),
        (FuzzyDate(2011, 3), FuzzyDate(2011, 3), "March 2011"),
        (FuzzyDate(2011, 3), FuzzyDate(2011, 3, 1), "March 2011"),
        (FuzzyDate(2011), FuzzyDate(2011, 1), "2011"),
        (FuzzyDate(2011, 3), FuzzyDate(2011, 3, 2), "March 2011, not before 2 Mar 2011"),
        (FuzzyDate(), FuzzyDate(2011, 3), "date unknown"),
        (
            FuzzyDate(2011, 11, None, "year: the first November after March 2011"),
            None,
            "November 2011 (year inferred)",
        ),
    ],
)
def test_a_not_before_bound_is_shown_after_the_date(date, not_before, shown):
    assert date.with_bound(not_before) == shown


def test_a_bound_narrows_a_date_only_from_within_its_start():
    assert FuzzyDate(2011).narrowed_by(FuzzyDate(2011, 3))
    assert FuzzyDate(2011, 3).narrowed_by(FuzzyDate(2011, 3, 15))
    assert not FuzzyDate(2011).narrowed_by(FuzzyDate(2011))
    assert not FuzzyDate(2011).narrowed_by(FuzzyDate(2011, 1, 1))
    assert not FuzzyDate(2011, 3).narrowed_by(FuzzyDate(2011))
    assert not FuzzyDate(2011).narrowed_by(FuzzyDate())
    assert not FuzzyDate().narrowed_by(FuzzyDate(2011, 3))
    assert not FuzzyDate(2011).narrowed_by(None)
