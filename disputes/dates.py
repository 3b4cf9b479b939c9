"""Fuzzy dates, as news reports give them: "2008", "in March 2011", "on Dec. 28".

A fuzzy date is stored as three nullable parts (year, month, day). Its precision is
whichever parts are present, so it can never disagree with the parts. For sorting and for
comparisons each date also has two integer keys, YYYYMMDD-shaped:

- the low key fills missing parts with 0, so "2011" sorts before "March 2011", which sorts
  before "28 March 2011";
- the high key fills missing parts with their largest value, so "2011" ends at 20111231.

A source may place an imprecise date after a known step ("the pilots received a sentence",
told after their detention in March 2011): a second fuzzy date, "not before", records that
bound within the first, and sorting starts from it when it is given (Event.date_key).

One date is *certainly* before another only when its high key is below the other's low key;
everything else (say "2011" against "March 2011") is a comparison the precision does not allow.
The same expressions serve the database (check constraints, generated columns, indexes) and
Python, so the two cannot drift apart.
"""

from __future__ import annotations

import calendar
import datetime
import re
from dataclasses import dataclass

from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.db.models.lookups import Exact

# English month names, whatever the server's locale (calendar's names follow LC_TIME, and
# build each name with strftime on every look-up).
MONTH_NAME = [
    "",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
MONTH_ABBR = ["", *(name[:3] for name in MONTH_NAME[1:])]


class Precision(models.TextChoices):
    UNKNOWN = "unknown", "unknown"
    YEAR = "year", "year"
    MONTH = "month", "month"
    DAY = "day", "day"


def low_key_expression(prefix: str):
    """Database expression for the earliest YYYYMMDD a fuzzy date can mean (NULL if no year)."""
    return (
        F(f"{prefix}_year") * Value(10000)
        + Coalesce(F(f"{prefix}_month"), Value(0)) * Value(100)
        + Coalesce(F(f"{prefix}_day"), Value(0))
    )


def high_key_expression(prefix: str):
    """Database expression for the latest YYYYMMDD a fuzzy date can mean (NULL if no year)."""
    return (
        F(f"{prefix}_year") * Value(10000)
        + Coalesce(F(f"{prefix}_month"), Value(12)) * Value(100)
        + Coalesce(F(f"{prefix}_day"), Value(31))
    )


def calendar_condition(prefix: str) -> Q:
    """True when the day exists in its month and year (29 February only in leap years).

    Written with plain comparisons and the % operator, which SQLite and PostgreSQL both
    have natively, so the check also holds for clients that lack Django's SQL functions."""
    y, m, d = F(f"{prefix}_year"), f"{prefix}_month", f"{prefix}_day"
    leap = Q(Exact(y % 4, 0)) & (~Q(Exact(y % 100, 0)) | Q(Exact(y % 400, 0)))
    return (
        Q(**{f"{d}__isnull": True})
        | Q(**{f"{d}__lte": 28})
        | (~Q(**{m: 2}) & Q(**{f"{d}__lte": 30}))
        | Q(**{f"{m}__in": (1, 3, 5, 7, 8, 10, 12)})
        | (Q(**{m: 2, d: 29}) & leap)
    )


def shape_constraints(prefix: str, model_name: str, label: str) -> list[models.CheckConstraint]:
    """Constraints that keep a fuzzy date well formed: no day without a month, no month
    without a year, parts within their ranges, and a day that exists in its month."""
    y, m, d = f"{prefix}_year", f"{prefix}_month", f"{prefix}_day"
    return [
        models.CheckConstraint(
            condition=Q(**{f"{m}__isnull": False}) | Q(**{f"{d}__isnull": True}),
            name=f"{model_name}_{prefix}_day_needs_month",
            violation_error_message=f"The {label} has a day but no month: give the month too.",
        ),
        models.CheckConstraint(
            condition=Q(**{f"{y}__isnull": False}) | Q(**{f"{m}__isnull": True}),
            name=f"{model_name}_{prefix}_month_needs_year",
            violation_error_message=(
                f"The {label} has a month but no year: give the year, marking it as inferred "
                "with the reason if the source does not state it."
            ),
        ),
        models.CheckConstraint(
            condition=Q(**{f"{y}__isnull": True}) | Q(**{f"{y}__range": (1, 9999)}),
            name=f"{model_name}_{prefix}_year_range",
            violation_error_message=f"The {label}'s year must be between 1 and 9999.",
        ),
        models.CheckConstraint(
            condition=Q(**{f"{m}__isnull": True}) | Q(**{f"{m}__range": (1, 12)}),
            name=f"{model_name}_{prefix}_month_range",
            violation_error_message=f"The {label}'s month must be between 1 and 12.",
        ),
        models.CheckConstraint(
            condition=Q(**{f"{d}__isnull": True}) | Q(**{f"{d}__range": (1, 31)}),
            name=f"{model_name}_{prefix}_day_range",
            violation_error_message=f"The {label}'s day must be between 1 and 31.",
        ),
        models.CheckConstraint(
            condition=calendar_condition(prefix),
            name=f"{model_name}_{prefix}_calendar_valid",
            violation_error_message=(
                f"The {label} is not a calendar date (that month is shorter): "
                "correct the day or the month."
            ),
        ),
    ]


@dataclass(frozen=True)
class FuzzyDate:
    year: int | None = None
    month: int | None = None
    day: int | None = None
    inferred: str = ""

    @classmethod
    def of(cls, obj, prefix: str) -> FuzzyDate:
        return cls(
            getattr(obj, f"{prefix}_year"),
            getattr(obj, f"{prefix}_month"),
            getattr(obj, f"{prefix}_day"),
            getattr(obj, f"{prefix}_inferred", "") or "",
        )

    @property
    def precision(self) -> Precision:
        if self.year is None:
            return Precision.UNKNOWN
        if self.month is None:
            return Precision.YEAR
        if self.day is None:
            return Precision.MONTH
        return Precision.DAY

    @property
    def known(self) -> bool:
        return self.year is not None

    @property
    def low_key(self) -> int | None:
        if self.year is None:
            return None
        return self.year * 10000 + (self.month or 0) * 100 + (self.day or 0)

    @property
    def high_key(self) -> int | None:
        if self.year is None:
            return None
        return self.year * 10000 + (self.month or 12) * 100 + (self.day or 31)

    def first_day(self) -> datetime.date | None:
        if self.year is None:
            return None
        return datetime.date(self.year, self.month or 1, self.day or 1)

    def last_day(self) -> datetime.date | None:
        if self.year is None:
            return None
        month = self.month or 12
        day = self.day or calendar.monthrange(self.year, month)[1]
        return datetime.date(self.year, month, day)

    def validate(self) -> str | None:
        """A message saying what to fix, or None when the date is a real calendar date."""
        if self.day is not None and self.month is not None and self.year is not None:
            try:
                datetime.date(self.year, self.month, self.day)
            except ValueError:
                return (
                    f"{self.year}-{self.month:02d}-{self.day:02d} is not a calendar date: "
                    "correct the day or the month."
                )
        return None

    def certainly_before(self, other: FuzzyDate) -> bool:
        """True only when every day this date can mean precedes every day the other can."""
        if not self.known or not other.known:
            return False
        return self.high_key < other.low_key

    def display(self) -> str:
        """The date at its own precision: "2008", "March 2011", "28 Dec 2011"."""
        if self.year is None:
            return "date unknown"
        if self.month is None:
            return str(self.year)
        if self.day is None:
            return f"{MONTH_NAME[self.month]} {self.year}"
        return f"{self.day} {MONTH_ABBR[self.month]} {self.year}"

    def __str__(self) -> str:
        return self.display() + self._inferred_suffix()

    def _inferred_suffix(self) -> str:
        return f" ({self.inferred_part()} inferred)" if self.inferred and self.known else ""

    def narrowed_by(self, not_before: FuzzyDate | None) -> bool:
        """True when a not-before date says more than this date does: its first day is
        later than this date's first day ("March 2011" within "2011", but not "January
        2011" or "1 Mar 2011" within "March 2011"). Compared by parts, so an invalid day
        (which the database refuses anyway) cannot raise here."""

        def first(date: FuzzyDate) -> tuple[int, int, int]:
            return (date.year, date.month or 1, date.day or 1)

        return (
            not_before is not None
            and self.known
            and not_before.known
            and first(not_before) > first(self)
        )

    def with_bound(self, not_before: FuzzyDate | None) -> str:
        """The date with the earliest it can be, when a source places it after a known step:
        "2011, not before March 2011 (year inferred)". The inferred note stays this date's;
        a bound that says no more than the date itself is left out."""
        if not self.narrowed_by(not_before):
            return str(self)
        return f"{self.display()}, not before {not_before.display()}{self._inferred_suffix()}"

    def inferred_part(self) -> str:
        """Which part the note concerns, as the reader should see it. Editors write the
        reason; the part is named by the first word of the note when it is one of the parts."""
        first = self.inferred.split(":", 1)[0].strip().lower()
        return first if first in {"year", "month", "day", "date"} else "date"

    def iso(self) -> str:
        """ISO 8601 at the date's precision, for <time datetime>."""
        if self.year is None:
            return ""
        if self.month is None:
            return f"{self.year:04d}"
        if self.day is None:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"


def elapsed(
    cause: FuzzyDate,
    response: FuzzyDate,
    cause_not_before: FuzzyDate | None = None,
    response_not_before: FuzzyDate | None = None,
) -> str:
    """How long a response took after its cause, no more precisely than the dates allow.

    Each fuzzy date spans days, so the delay is a range: from the cause's last possible day
    to the response's first, up to the cause's first possible day to the response's last.
    A not-before bound that narrows a date moves its first possible day (a cause in "2011,
    not before March 2011" took place in March at the earliest). A narrow range reads
    "about 3 years"; a wide one says so ("2 to 15 months"); one that may start at zero reads
    "up to 3 months".
    """
    if not cause.known or not response.known:
        return "unknown"
    if response.certainly_before(cause):
        return "before its cause"
    if cause.precision == Precision.DAY and response.precision == Precision.DAY:
        return _exact_days((response.first_day() - cause.first_day()).days)
    if (
        cause.month
        and response.month
        and (cause.year, cause.month)
        == (
            response.year,
            response.month,
        )
    ):
        return "within the month"
    if cause.month is None and response.month is None and cause.year == response.year:
        return "within the year"
    lo_days = max((first_possible_day(response, response_not_before) - cause.last_day()).days, 0)
    hi_days = (response.last_day() - first_possible_day(cause, cause_not_before)).days
    if hi_days < 0:  # a bound puts the cause after every day the response can be
        return "before its cause"
    unit, size = _unit_for(hi_days)
    mid = (lo_days + hi_days) / 2
    if lo_days and (hi_days - lo_days) <= mid / 2:
        return _about(round(mid / size), unit)
    low, high = round(lo_days / size), round(hi_days / size)
    if low == high:
        return _about(high, unit)
    if low == 0:
        return f"up to {_count(high, unit)}"
    return f"{low} to {high} {unit}s"


def first_possible_day(date: FuzzyDate, not_before: FuzzyDate | None) -> datetime.date | None:
    """The first day `date` can mean: its not-before bound's, when that says more."""
    return not_before.first_day() if date.narrowed_by(not_before) else date.first_day()


_UNITS = [(14, "day", 1), (60, "week", 7), (540, "month", 30.44), (None, "year", 365.25)]


def _unit_for(days: int) -> tuple[str, float]:
    for limit, unit, size in _UNITS:
        if limit is None or days < limit:
            return unit, size
    raise AssertionError("unreachable")


def _count(n: int, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


def _about(n: int, unit: str) -> str:
    if n <= 1:
        return f"about a {unit}" if unit != "day" else "about a day"
    return f"about {n} {unit}s"


def _exact_days(days: int) -> str:
    if days == 0:
        return "the same day"
    if days < 60:
        return _count(days, "day")
    if days < 365:
        return _about(round(days / 30.44), "month")
    return _about(round(days / 365.25), "year")


# Entering a date as one field ---------------------------------------------------------------

_MONTHS = {name.lower(): n for n, name in enumerate(MONTH_NAME) if name}
_MONTHS.update({name[:3].lower(): n for name, n in list(_MONTHS.items())})
_MONTHS["sept"] = 9
_MONTH = r"(?P<month>[A-Za-z]+)\.?"
_FORMATS = [
    re.compile(rf"^{pattern}$", re.IGNORECASE)
    for pattern in (
        r"(?P<year>\d{1,4})",  # 2008
        r"(?P<year>\d{4})-(?P<mnum>\d{1,2})",  # 2011-03
        r"(?P<year>\d{4})-(?P<mnum>\d{1,2})-(?P<day>\d{1,2})",  # 2011-12-28
        rf"{_MONTH},? (?P<year>\d{{1,4}})",  # March 2011, Dec. 2011
        rf"{_MONTH} (?P<day>\d{{1,2}})(?:st|nd|rd|th)?,? (?P<year>\d{{1,4}})",  # Dec. 28, 2011
        rf"(?P<day>\d{{1,2}})(?:st|nd|rd|th)? (?:of )?{_MONTH},? (?P<year>\d{{1,4}})",  # 28 Dec 2011
    )
]
_LEADING = re.compile(r"^(?:in|on)\s+", re.IGNORECASE)
DATE_EXAMPLES = '"2008", "March 2011", "Dec. 28, 2011" or "2011-12-28"'


class DateNotUnderstood(ValueError):
    """The text is not a date this parser reads; the message says what to write instead."""


def parse(text: str) -> FuzzyDate:
    """A fuzzy date from an editor's words, at the precision they give: "2008",
    "in March 2011", "Dec. 28, 2011", "28 Dec 2011", "2011-12-28". Empty text is an unknown
    date. Raises DateNotUnderstood, saying what to write, for anything else (a month without
    a year, a day that is not in its month)."""
    words = " ".join(text.replace("\u00a0", " ").split()).strip(" .,")
    while _LEADING.match(words):
        words = _LEADING.sub("", words, count=1)
    if not words:
        return FuzzyDate()
    for pattern in _FORMATS:
        match = pattern.match(words)
        if match is None:
            continue
        parts = match.groupdict()
        year = int(parts["year"])
        month = None
        if parts.get("mnum"):
            month = int(parts["mnum"])
        elif parts.get("month"):
            month = _MONTHS.get(parts["month"].lower())
            if month is None:
                raise DateNotUnderstood(
                    f"“{parts['month']}” is not a month: write e.g. {DATE_EXAMPLES}."
                )
        day = int(parts["day"]) if parts.get("day") else None
        date = FuzzyDate(year, month, day)
        if not 1 <= year <= 9999:
            raise DateNotUnderstood("The year must be between 1 and 9999.")
        if month is not None and not 1 <= month <= 12:
            raise DateNotUnderstood(f"There is no month {month}: write e.g. {DATE_EXAMPLES}.")
        problem = date.validate()
        if problem:
            raise DateNotUnderstood(problem)
        return date
    if words.lower().rstrip(".") in _MONTHS:
        raise DateNotUnderstood(
            f"“{words}” has no year: give it (and say in the note beside it why, if the "
            "source does not state it)."
        )
    raise DateNotUnderstood(
        f"“{text.strip()}” is not a date this form reads: write e.g. {DATE_EXAMPLES}."
    )


def editable(date: FuzzyDate) -> str:
    """A stored date as its single field shows it; `parse` reads it back unchanged."""
    return date.display() if date.known else ""


def date_reasons(event) -> list[tuple[str, str]]:
    """(what it explains, the editor's reason) for each inferred part of the event's date:
    ("year inferred", "..."), ("not before March 2011", "...")."""
    date, bound = event.date, event.not_before
    reasons = []
    if date.known and date.inferred:
        part = date.inferred_part()
        reason = date.inferred
        if reason.split(":", 1)[0].strip().lower() == part and ":" in reason:
            reason = reason.split(":", 1)[1].strip()
        reasons.append((f"{part} inferred", reason))
    if date.narrowed_by(bound):
        reasons.append((f"not before {bound.display()}", bound.inferred))
    return reasons
