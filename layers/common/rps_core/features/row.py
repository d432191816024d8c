"""The features of one row per item from its last HISTORY_HOURS observations, for forecasts (serving's and
the Forecast step's: ``rps_core.forecasts.predict``).

``build_features(obs, target, last=1)`` evaluates each column on its own (about seventy numpy calls per
row). ``RowFeatures`` compiles the same ``Spec`` list once into index arrays: every lag, change and
departure of a row is one gather and one subtraction over the window's values, the rolling statistics
are reduced once per window length, the calendar and sun columns are memoised per day and place. The
float64 operations are the ones ``build_features`` performs, in the same order, so the rows are equal bit
for bit (a test checks thousands of real windows against the training build).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from rps_core.features.build import _WIND_UV, HISTORY_HOURS, Spec, column_specs, time_encoding
from rps_core.features.solar import solar_rows
from rps_core.schema import VARIABLES, Observations

# The rows of the value matrix: the variables as observed, then the wind components derived from them.
SERIES = (*VARIABLES, *_WIND_UV)
_SPEED, _DIRECTION = VARIABLES.index("wind_speed_10m"), VARIABLES.index("wind_direction_10m")
_TIMES = ("hour_sin", "hour_cos", "doy_sin", "doy_cos")


@dataclass(frozen=True)
class _Window:
    """The series whose statistics over the last ``length`` hours some column reads; their values are
    ``offset`` on in the gathered layout, ``len(series) * length`` of them."""

    length: int
    series: tuple[int, ...]  # rows of SERIES
    offset: int


class _HourColumns:
    """The columns that depend only on the hour and the place (calendar and sun, 11 of them), memoised
    per UTC day and place: a miss computes the day's 24 rows in one pass (the numpy calls cost the same
    for 24 rows as for one), and the requests of that day and place read them. Elementwise functions
    and per-row means: the same numbers as computed for any other span. Bounded; safe between threads."""

    def __init__(self, days: int = 256) -> None:
        self._days: dict[tuple[int, float, float], np.ndarray] = {}
        self._size = days
        self._lock = threading.Lock()

    def rows(self, last_hour: np.ndarray, latitude: np.ndarray, longitude: np.ndarray) -> np.ndarray:
        out = np.empty((last_hour.shape[0], len(_TIMES) + 7))
        for i, (hour, lat, lon) in enumerate(
            zip(last_hour.tolist(), latitude.tolist(), longitude.tolist(), strict=True)
        ):
            day = hour // 24
            block = self._days.get((day, lat, lon))
            if block is None:
                block = self._day(day, lat, lon)
            out[i] = block[hour - 24 * day]
        return out

    def _day(self, day: int, lat: float, lon: float) -> np.ndarray:
        hours = np.arange(24 * day, 24 * day + 24, dtype=np.int64)
        calendar = [time_encoding(name, hours.astype("datetime64[h]")) for name in _TIMES]
        block = np.column_stack([*calendar, solar_rows(hours, np.full(24, lat), np.full(24, lon))])
        with self._lock:
            if len(self._days) >= self._size:
                del self._days[next(iter(self._days))]  # the oldest day first
            self._days[(day, lat, lon)] = block
        return block


class RowFeatures:
    """``rows(values, last_hour, latitude, longitude)``: float32 [n, f], row i equal to the last row of
    ``build_features`` on item i's window. Immutable after construction; safe to share between threads."""

    def __init__(self, target: str) -> None:
        specs = column_specs(target)
        self.target = target
        self.width = len(specs) + 7  # and the sun's columns
        # How many trailing hours of the wind components any column reads (they are derived per request).
        self._wind_hours = max(
            [max(s.lag_a, s.lag_b) + 1 for s in specs if s.kind == "diff" and s.a in _WIND_UV]
            + [s.window for s in specs if s.a in _WIND_UV] + [1]
        )  # fmt: skip
        self._windows = self._compile_windows(specs)
        self._std_windows = [w for w in self._windows if any(s.kind == "std" and s.window == w.length for s in specs)]
        # The statistics' slots (one per window and series, in order) of the windows with a std.
        first = dict(
            zip(self._windows, np.cumsum([0] + [len(w.series) for w in self._windows[:-1]]).tolist(), strict=True)
        )
        slots = [first[w] + j for w in self._std_windows for j in range(len(w.series))]
        self._std_segments = np.array(slots, dtype=np.intp)
        self._hours = _HourColumns()
        self._ia, self._ib = self._compile_columns(specs)

    def _compile_windows(self, specs: list[Spec]) -> list[_Window]:
        stats = [s for s in specs if s.kind in ("mean", "std", "sum", "departure")]
        windows: list[_Window] = []
        values: list[int] = []
        segment_lengths: list[int] = []
        offset = 0
        for length in sorted({s.window for s in stats}):
            rows = tuple(sorted({SERIES.index(s.a) for s in stats if s.window == length}))
            windows.append(_Window(length, rows, offset))
            for r in rows:
                values.extend(range(r * HISTORY_HOURS + HISTORY_HOURS - length, (r + 1) * HISTORY_HOURS))
                segment_lengths.append(length)
            offset += len(rows) * length
        lengths = np.array(segment_lengths)
        self._stat_values = np.array(values, dtype=np.intp)
        self._stat_starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.intp)
        self._stat_length = lengths
        self._stat_segment = np.repeat(np.arange(lengths.size), lengths)
        self._need_mean = np.maximum(1, lengths // 2)
        self._need_std = np.maximum(2, lengths // 2)
        return windows

    @staticmethod
    def _window_sums(values: np.ndarray, w: _Window) -> np.ndarray:
        part = values[:, w.offset : w.offset + len(w.series) * w.length]
        return part.reshape(values.shape[0], len(w.series), w.length).sum(axis=2)

    def _stat_slot(self, spec: Spec) -> int:
        """Where a statistic is in the stats block: all means, then all stds, then all sums; each in the
        order of the windows, then of their series."""
        slot = 0
        for w in self._windows:
            if w.length == spec.window:
                slot += w.series.index(SERIES.index(spec.a))
                break
            slot += len(w.series)
        kind = {"mean": 0, "departure": 0, "std": 1, "sum": 2}[spec.kind]
        return kind * self._stat_length.size + slot

    def _compile_columns(self, specs: list[Spec]) -> tuple[np.ndarray, np.ndarray]:
        """Column j is ``block[ia[j]] - block[ib[j]]``; the block is [values | stats | calendar | sun | 0]."""
        h = HISTORY_HOURS
        stats = HISTORY_HOURS * len(SERIES)
        calendar = stats + 3 * self._stat_length.size
        sun = calendar + len(_TIMES)
        self._zero = sun + 7

        def value(name: str, lag: int) -> int:
            return SERIES.index(name) * h + h - 1 - lag

        ia, ib = [], []
        for s in specs:
            if s.kind == "diff":
                ia.append(value(s.a, s.lag_a))
                ib.append(value(s.b, s.lag_b) if s.b else self._zero)
            elif s.kind == "departure":
                ia.append(value(s.a, 0))
                ib.append(stats + self._stat_slot(s))
            elif s.kind == "time":
                ia.append(calendar + _TIMES.index(s.a))
                ib.append(self._zero)
            else:
                ia.append(stats + self._stat_slot(s))
                ib.append(self._zero)
        ia += range(sun, sun + 7)
        ib += [self._zero] * 7
        return np.array(ia, dtype=np.intp), np.array(ib, dtype=np.intp)

    def rows(
        self, values: np.ndarray, last_hour: np.ndarray, latitude: np.ndarray, longitude: np.ndarray
    ) -> np.ndarray:
        """``values``: float64 [n, len(VARIABLES), HISTORY_HOURS], NaN for missing readings, oldest first;
        ``last_hour``: int64 [n], the last observation's hour (hours since 1970-01-01T00 UTC);
        ``latitude``, ``longitude``: [n] degrees."""
        n, h = values.shape[0], HISTORY_HOURS
        block = np.empty((n, self._zero + 1))
        series = block[:, : len(SERIES) * h].reshape(n, len(SERIES), h)
        series[:, : len(VARIABLES)] = values[:, :, -h:]
        with np.errstate(invalid="ignore", divide="ignore"):
            self._wind(series)
            self._statistics(series, block)
        block[:, self._zero - 7 - len(_TIMES) : self._zero] = self._hours.rows(last_hour, latitude, longitude)
        block[:, self._zero] = 0.0
        return (block[:, self._ia] - block[:, self._ib]).astype(np.float32)

    def _wind(self, series: np.ndarray) -> None:
        # As build.py's _wind_uv, on the trailing hours that columns read (elementwise: the same numbers).
        k = self._wind_hours
        speed, direction = series[:, _SPEED, -k:], np.deg2rad(series[:, _DIRECTION, -k:])
        calm = speed == 0
        u_row, v_row = len(VARIABLES), len(VARIABLES) + 1
        series[:, u_row, -k:] = np.where(calm, 0.0, -speed * np.sin(direction))
        series[:, v_row, -k:] = np.where(calm, 0.0, -speed * np.cos(direction))

    def _statistics(self, series: np.ndarray, block: np.ndarray) -> None:
        # As tf.rolling_mean/std/sum. Every window's values are gathered once into one layout (per window,
        # per series, its hours), so each window of each series is a contiguous row: numpy's pairwise
        # summation groups the terms as it does in build_features, and the other steps are elementwise.
        n = series.shape[0]
        # take, not x[:, idx]: fancy indexing may return a Fortran-ordered array, whose rows numpy then
        # sums sequentially, not pairwise (measured: a last bit differs from training in 1 window of 3,672).
        x = np.take(series.reshape(n, -1), self._stat_values, axis=1)
        missing = np.isnan(x)
        clean = np.where(missing, 0.0, x)
        count = self._stat_length - np.add.reduceat(missing, self._stat_starts, axis=1, dtype=np.intp)
        total = np.concatenate([self._window_sums(clean, w) for w in self._windows], axis=1)
        mean = total / count
        means = np.where(count >= self._need_mean, mean, np.nan)
        start = HISTORY_HOURS * len(SERIES)
        k = count.shape[1]
        block[:, start : start + k] = means
        block[:, start + 2 * k : start + 3 * k] = means * self._stat_length
        # Standard deviations only where a column reads one (the other slots are never gathered).
        square = np.where(missing, 0.0, (x - mean[:, self._stat_segment]) ** 2)
        var = np.concatenate([self._window_sums(square, w) for w in self._std_windows], axis=1)
        n_std = count[:, self._std_segments]
        stds = np.where(n_std >= self._need_std[self._std_segments], np.sqrt(var / n_std), np.nan)
        block[:, start + k + self._std_segments] = stds

    def of(self, windows: list[Observations]) -> np.ndarray:
        """The rows of observation windows (each at least HISTORY_HOURS long, on an hourly grid)."""
        values = np.stack([np.stack([w.values[v][-HISTORY_HOURS:] for v in VARIABLES]) for w in windows])
        last = np.array([w.time[-1].astype("datetime64[h]").astype(np.int64) for w in windows])
        lat = np.array([w.latitude for w in windows], dtype=np.float64)
        lon = np.array([w.longitude for w in windows], dtype=np.float64)
        return self.rows(values.astype(np.float64, copy=False), last, lat, lon)
