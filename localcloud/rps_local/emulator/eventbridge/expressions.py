"""EventBridge schedule expressions: ``rate(N unit)`` and AWS's six-field ``cron(...)``, with next fire times.

Written here rather than taken from croniter because AWS's dialect differs where it matters: day-of-week
runs 1-7 from SUNDAY (croniter: 0-6 from Sunday, so ``MON`` would shift a day), a year field, ``?`` in
exactly one of day-of-month and day-of-week, and ``L``, ``W`` and ``#``. All times are UTC, as for rules.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from rps_local.emulator.errors import LocalCloudError

__all__ = ["Cron", "Rate", "ScheduleExpressionError", "parse_schedule"]

_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_CRON = re.compile(r"^cron\((.*)\)$")
_UNITS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = {
    m: i
    for i, m in enumerate(["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], start=1)
}
_DAYS = {d: i for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], start=1)}
_YEARS = (1970, 2199)


class ScheduleExpressionError(LocalCloudError, ValueError):
    """A schedule expression EventBridge would reject."""


@dataclass(frozen=True)
class Rate:
    """``rate(N unit)``: every ``seconds``, counted from when the rule was created (``anchor``)."""

    expression: str
    seconds: int

    def next_fire(self, after: datetime, anchor: datetime) -> datetime:
        periods = max(0, int((after - anchor).total_seconds() // self.seconds)) + 1
        return anchor + timedelta(seconds=periods * self.seconds)


@dataclass(frozen=True)
class Cron:
    """``cron(minutes hours day-of-month month day-of-week year)``, in UTC."""

    expression: str
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    months: tuple[int, ...]
    years: tuple[int, ...]
    day_of_month: tuple[str, object] | None  # None for "?"; ("set", {..}), ("last",), ("weekday", n), ("lastweekday",)
    day_of_week: tuple[str, object] | None  # None for "?"; ("set", {1..7}), ("last", d), ("nth", (d, n))

    def next_fire(self, after: datetime, anchor: datetime | None = None) -> datetime | None:
        """The first matching minute strictly after ``after``; None when the year field has run out."""
        start = after.astimezone(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
        for year in (y for y in self.years if y >= start.year):
            for month in (m for m in self.months if (year, m) >= (start.year, start.month)):
                first = start.day if (year, month) == (start.year, start.month) else 1
                for day in range(first, calendar.monthrange(year, month)[1] + 1):
                    if not self._day_matches(date(year, month, day)):
                        continue
                    today = (year, month, day) == (start.year, start.month, start.day)
                    for hour in (h for h in self.hours if not today or h >= start.hour):
                        this_hour = today and hour == start.hour
                        for minute in (m for m in self.minutes if not this_hour or m >= start.minute):
                            return datetime(year, month, day, hour, minute, tzinfo=UTC)
        return None

    def _day_matches(self, day: date) -> bool:
        if self.day_of_month is not None:
            return _dom_matches(self.day_of_month, day)
        assert self.day_of_week is not None
        return _dow_matches(self.day_of_week, day)


def _aws_weekday(day: date) -> int:
    return (day.weekday() + 1) % 7 + 1  # Python: Monday=0; AWS: Sunday=1 ... Saturday=7


def _dom_matches(spec: tuple[str, object], day: date) -> bool:
    kind, value = spec
    last = calendar.monthrange(day.year, day.month)[1]
    if kind == "set":
        return day.day in value  # type: ignore[operator]
    if kind == "last":
        return day.day == last
    if kind == "lastweekday":
        return day.day == _nearest_weekday(day.replace(day=last), last)
    target = int(value)  # type: ignore[call-overload]
    return target <= last and day.day == _nearest_weekday(day.replace(day=target), last)


def _nearest_weekday(day: date, last: int) -> int:
    """``nW``: the weekday nearest to day n, never leaving the month (Quartz's rule, which AWS follows)."""
    weekday = day.weekday()
    if weekday == 5:  # Saturday → Friday, or Monday when the 1st is a Saturday
        return day.day - 1 if day.day > 1 else day.day + 2
    if weekday == 6:  # Sunday → Monday, or Friday when Sunday is the last day
        return day.day + 1 if day.day < last else day.day - 2
    return day.day


def _dow_matches(spec: tuple[str, object], day: date) -> bool:
    kind, value = spec
    weekday = _aws_weekday(day)
    if kind == "set":
        return weekday in value  # type: ignore[operator]
    if kind == "last":
        return weekday == value and day.day + 7 > calendar.monthrange(day.year, day.month)[1]
    wanted, nth = value  # type: ignore[misc]
    return weekday == wanted and (day.day - 1) // 7 + 1 == nth


def parse_schedule(expression: str) -> Rate | Cron:
    """Parse a rule's ``ScheduleExpression``; raises ``ScheduleExpressionError`` saying what is wrong."""
    text = expression.strip()
    if rate := _RATE.match(text):
        return _parse_rate(expression, int(rate.group(1)), rate.group(2))
    if cron := _CRON.match(text):
        return _parse_cron(expression, cron.group(1).split())
    raise ScheduleExpressionError(f"{expression!r}: a schedule is rate(N unit) or cron(6 fields)")


def _parse_rate(expression: str, value: int, unit: str) -> Rate:
    if value <= 0:
        raise ScheduleExpressionError(f"{expression!r}: the rate must be a positive whole number")
    if (value == 1) != (not unit.endswith("s")):  # EventBridge: rate(1 hour) but rate(2 hours)
        raise ScheduleExpressionError(f"{expression!r}: use a singular unit for 1 and a plural one otherwise")
    return Rate(expression, value * _UNITS[unit.rstrip("s")])


def _parse_cron(expression: str, fields: list[str]) -> Cron:
    if len(fields) != 6:
        raise ScheduleExpressionError(
            f"{expression!r}: cron needs 6 fields (minutes hours day-of-month month day-of-week year), "
            f"got {len(fields)}"
        )
    minute, hour, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise ScheduleExpressionError(f"{expression!r}: exactly one of day-of-month and day-of-week must be '?'")
    try:
        return Cron(
            expression=expression,
            minutes=_values(minute, 0, 59),
            hours=_values(hour, 0, 23),
            months=_values(month, 1, 12, _MONTHS),
            years=_values(year, *_YEARS),
            day_of_month=None if dom == "?" else _day_of_month(dom),
            day_of_week=None if dow == "?" else _day_of_week(dow),
        )
    except ValueError as exc:
        raise ScheduleExpressionError(f"{expression!r}: {exc}") from None


def _day_of_month(field: str) -> tuple[str, object]:
    if field == "L":
        return ("last", None)
    if field == "LW":
        return ("lastweekday", None)
    if field.endswith("W"):
        return ("weekday", _number(field[:-1], 1, 31, {}, "day-of-month"))
    return ("set", frozenset(_values(field, 1, 31)))


def _day_of_week(field: str) -> tuple[str, object]:
    if field == "L":
        return ("set", frozenset({7}))  # L alone is the last day of the week: Saturday
    if field.endswith("L"):
        return ("last", _number(field[:-1], 1, 7, _DAYS, "day-of-week"))
    if "#" in field:
        day, _, nth = field.partition("#")
        return ("nth", (_number(day, 1, 7, _DAYS, "day-of-week"), _number(nth, 1, 5, {}, "'#' occurrence")))
    return ("set", frozenset(_values(field, 1, 7, _DAYS)))


def _values(field: str, low: int, high: int, names: dict[str, int] | None = None) -> tuple[int, ...]:
    """A field of numbers: ``*``, ``a``, ``a-b``, with ``/step``, comma-separated."""
    names = names or {}
    chosen: set[int] = set()
    for item in field.split(","):
        base, slash, step_text = item.partition("/")
        step = _number(step_text, 1, high - low + 1 or 1, {}, "step") if slash else 1
        if base == "*":
            first, last = low, high
        elif "-" in base:
            a, _, b = base.partition("-")
            first, last = _number(a, low, high, names), _number(b, low, high, names)
            if first > last:
                raise ValueError(f"range {base} runs backwards")
        else:
            first = _number(base, low, high, names)
            last = high if slash else first  # a/step runs from a to the end of the range
        chosen.update(range(first, last + 1, step))
    return tuple(sorted(chosen))


def _number(text: str, low: int, high: int, names: dict[str, int], what: str = "value") -> int:
    value = names.get(text.upper()) if text.upper() in names else int(text) if text.isdigit() else None
    if value is None or not low <= value <= high:
        raise ValueError(f"{what} {text!r} is not in {low}-{high}")
    return value
