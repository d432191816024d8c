"""The interfaces between the steps, as code: the time format, every S3 key, and one frozen dataclass per
step input and output.

A handler parses its event once at the edge (``Type.from_event``: ``InvalidEventError`` naming the step
and the field), runs the library on the typed value, and serialises the result once (``to_dict``). Fields
an event carries beyond a type's own are ignored (the state machine passes its state along), so a step
reads only what it declares. README "Interfaces between the steps" is this module in prose.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any, Self

from rps_core.errors import InvalidEventError
from rps_core.times import event_time, format_time

__all__ = [
    "BATCH_KEY",
    "CHAMPION_KEY",
    "CLOCK_KEY",
    "DatasetRef",
    "Failed",
    "GateResult",
    "IngestResult",
    "LocationWindow",
    "QuarantineRequest",
    "QuarantineResult",
    "Quarantined",
    "RunPlan",
    "TrainRequest",
    "Window",
    "batch_items",
    "dataset_prefix",
    "dataset_root",
    "each_location",
    "failed_entry",
    "forecast_key",
    "forecast_prefix",
    "latest_key",
    "model_prefix",
    "quality_key",
    "quarantine_key",
    "raw_key",
    "run_items_key",
]

# ---------------------------------------------------------------- time: UTC hours as YYYY-MM-DDTHH:MM


@dataclass(frozen=True)
class Window:
    """The hours a run collects: ``(start, end]``; ``start`` None means all history up to ``end``."""

    start: datetime | None
    end: datetime

    def __post_init__(self) -> None:
        if self.start is not None and self.start >= self.end:
            raise InvalidEventError(
                f"window: start {format_time(self.start)} is not before end {format_time(self.end)}"
            )

    @property
    def start_text(self) -> str | None:
        return None if self.start is None else format_time(self.start)

    @property
    def end_text(self) -> str:
        return format_time(self.end)

    def months(self, shortest: timedelta = timedelta(days=7)) -> list[Window]:
        """The window cut at each month's start (the 1st, 00:00 UTC): a backfill's items per location and
        month. A first or last piece shorter than ``shortest`` joins its neighbour (the gate wants rows); a
        window with no start is one piece."""
        if self.start is None:
            return [self]
        bounds = [self.start]
        cut = datetime(self.start.year, self.start.month, 1, tzinfo=self.start.tzinfo)
        while True:
            cut = datetime(cut.year + cut.month // 12, cut.month % 12 + 1, 1, tzinfo=cut.tzinfo)
            if cut >= self.end:
                break
            bounds.append(cut)
        bounds.append(self.end)
        if len(bounds) > 2 and bounds[1] - bounds[0] < shortest:
            del bounds[1]
        if len(bounds) > 2 and bounds[-1] - bounds[-2] < shortest:
            del bounds[-2]
        return [Window(a, b) for a, b in pairwise(bounds)]

    def contains(self, time_text: str) -> bool:
        """Whether a ``YYYY-MM-DDTHH:MM`` time lies in ``(start, end]`` (string order is time order)."""
        return (self.start_text is None or time_text > self.start_text) and time_text <= self.end_text

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> Window:
        start = event.get("window_start")
        end = event_time(event.get("window_end"), "window_end")
        return cls(None if start is None else event_time(start, "window_start"), end)


# ---------------------------------------------------------------- S3 keys

# DATA_BUCKET
CLOCK_KEY = "clock/state.json"


def _window_name(window_end: str, range_start: str | None) -> str:
    """``end=E`` for a scheduled window; ``end=E.from=S`` for a backfill range, whose end may be a scheduled
    window's end too (both sort by end under the same ``end=`` prefix)."""
    return f"end={window_end}" if range_start is None else f"end={window_end}.from={range_start}"


def raw_key(location: str, window_end: str, range_start: str | None = None) -> str:
    return f"raw/location={location}/{_window_name(window_end, range_start)}.json"


def quality_key(location: str, window_end: str, range_start: str | None = None) -> str:
    return f"quality/location={location}/{_window_name(window_end, range_start)}.json"


def quarantine_key(location: str, window_end: str, range_start: str | None = None) -> str:
    return f"quarantine/location={location}/{_window_name(window_end, range_start)}.json"


def dataset_root(location: str) -> str:
    """Where a location's dataset versions and its ``latest.json`` live."""
    return f"datasets/location={location}/"


def latest_key(location: str) -> str:
    """The pointer to a location's newest dataset version; absent until its first window is transformed."""
    return f"{dataset_root(location)}latest.json"


def dataset_prefix(location: str, version: str) -> str:
    return f"{dataset_root(location)}version={version}/"


def forecast_prefix(location: str) -> str:
    """The prefix of a location's batch forecasts; keys under it sort by issue time."""
    return f"forecasts/location={location}/issued="


def forecast_key(location: str, issued_at: str) -> str:
    return f"{forecast_prefix(location)}{issued_at}.json"


_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def run_items_key(run_id: str) -> str:
    """The run's Map items (one LocationWindow per location), written by Plan and read by the Map's ItemReader.
    The Map's ResultWriter writes under ``runs/map-results/`` (statemachine/pipeline.asl.json)."""
    if not _RUN_ID.match(run_id):
        raise InvalidEventError(f"plan: run_id must be 1-128 of A-Z a-z 0-9 . _ - (it names S3 keys), got {run_id!r}")
    return f"runs/run={run_id}/items.json"


# MODEL_BUCKET
CHAMPION_KEY = "champion/pointer.json"


def model_prefix(model_id: str) -> str:
    return f"models/{model_id}/"


# ---------------------------------------------------------------- parsing helpers


def _object(event: Any, step: str) -> dict[str, Any]:
    if not isinstance(event, dict):
        raise InvalidEventError(f"{step}: expected a JSON object, got {type(event).__name__}")
    return event


def _require(event: dict[str, Any], step: str, names: tuple[str, ...]) -> None:
    missing = [name for name in names if name not in event]
    if missing:
        raise InvalidEventError(f"{step}: missing {', '.join(missing)}")


def _text(event: dict[str, Any], step: str, name: str) -> str:
    value = event.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidEventError(f"{step}: {name}: expected a non-empty string, got {value!r}")
    return value


def _count(event: dict[str, Any], step: str, name: str) -> int:
    value = event.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidEventError(f"{step}: {name}: expected a count, got {value!r}")
    return value


def _flag(event: dict[str, Any], step: str, name: str) -> bool:
    value = event.get(name)
    if not isinstance(value, bool):
        raise InvalidEventError(f"{step}: {name}: expected true or false, got {value!r}")
    return value


class _Serialised:
    """``to_dict``: the fields as JSON-ready values (tuples as lists), in declaration order."""

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)  # type: ignore[call-overload]
        return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))  # type: ignore[arg-type]


# ---------------------------------------------------------------- Plan → the per-location Map


@dataclass(frozen=True)
class RunPlan(_Serialised):
    """Plan's output: one run's window, and where the Map finds its items and how it runs them.

    The items (``item(location)`` of every location) are in S3 under ``items_key`` (``run_items_key``), so
    the state stays small at any number of locations. ``batch_size``, ``max_concurrency`` and
    ``tolerated_failure_percentage`` are the Distributed Map's (template parameters, through Plan's settings).
    ``backfill``: the first run, whose window holds all history (``window_start`` null). ``ranged``: an
    execution started with ``{"backfill": {"start", "end"}}``, which collects that past range for every
    location, leaves the clock alone and ends after the Map (no training). ``replay_ended``: a replayed file
    (``replay``/``file`` source) has no hour after ``window_start``, its last being ``data_end``: the run
    ends at once with that status (no Map, no quarantine, no training), and the clock stays.
    """

    run_id: str
    now: str
    window_start: str | None
    window_end: str
    location_count: int
    items_key: str
    batch_size: int
    max_concurrency: int
    tolerated_failure_percentage: float
    source: str
    backfill: bool
    ranged: bool = False
    replay_ended: bool = False
    data_end: str | None = None

    def item(self, location: str) -> LocationWindow:
        """The Map's item for ``location``: the run's window."""
        return LocationWindow(location, self.run_id, self.now, self.window_start, self.window_end, ranged=self.ranged)

    def items(self, location: str) -> list[LocationWindow]:
        """The Map's items for ``location``: the run's window, or a backfill range's months (each judged as of
        its own end, so the gate's freshness holds for a past month)."""
        if not self.ranged:
            return [self.item(location)]
        whole = Window.from_event({"window_start": self.window_start, "window_end": self.window_end})
        return [
            LocationWindow(location, self.run_id, part.end_text, part.start_text, part.end_text, ranged=True)
            for part in whole.months()
        ]


@dataclass(frozen=True)
class LocationWindow(_Serialised):
    """One location's window in one run: Ingest's input (the Map's item)."""

    location: str
    run_id: str
    now: str
    window_start: str | None
    window_end: str
    # A backfill range (RunPlan.ranged): its objects are named by start and end. Keyword-only, so the
    # types that extend this one keep their own required fields.
    ranged: bool = field(default=False, kw_only=True)

    @property
    def window(self) -> Window:
        return Window.from_event({"window_start": self.window_start, "window_end": self.window_end})

    @property
    def range_start(self) -> str | None:
        """The start that names this window's objects (raw, quality, quarantine): a backfill range's only."""
        return self.window_start if self.ranged else None

    @classmethod
    def _parse(cls, event: Any, step: str) -> dict[str, Any]:
        event = _object(event, step)
        _require(event, step, ("location", "run_id", "now", "window_start", "window_end"))
        window = Window.from_event(event)  # both ends checked, and their order
        ranged = event.get("ranged", False)
        if not isinstance(ranged, bool):
            raise InvalidEventError(f"{step}: 'ranged' must be true or false, got {ranged!r}")
        if ranged and window.start is None:
            raise InvalidEventError(f"{step}: a backfill range needs a window_start")
        return {
            "location": _text(event, step, "location"),
            "run_id": _text(event, step, "run_id"),
            "now": format_time(event_time(event["now"], "now")),
            "window_start": window.start_text,
            "window_end": window.end_text,
            "ranged": ranged,
        }

    @classmethod
    def from_event(cls, event: Any, step: str = "ingest") -> Self:
        return cls(**cls._parse(event, step))


@dataclass(frozen=True)
class IngestResult(LocationWindow):
    """Ingest's output, QualityGate's and Transform's input: the window and its raw object."""

    raw_key: str
    rows: int
    created: bool

    @classmethod
    def _parse(cls, event: Any, step: str) -> dict[str, Any]:
        base = LocationWindow._parse(event, step)
        _require(event, step, ("raw_key", "rows", "created"))
        return {
            **base,
            "raw_key": _text(event, step, "raw_key"),
            "rows": _count(event, step, "rows"),
            "created": _flag(event, step, "created"),
        }

    @classmethod
    def of(cls, request: LocationWindow, raw_key: str, rows: int, created: bool) -> IngestResult:
        return cls(**_fields_of(request, LocationWindow), raw_key=raw_key, rows=rows, created=created)


@dataclass(frozen=True)
class GateResult(IngestResult):
    """QualityGate's output (Transform's input): the report's key; ``cause`` names the failed checks."""

    quality_key: str
    passed: bool
    cause: str | None = None

    @classmethod
    def judged(cls, ingested: IngestResult, quality_key: str, passed: bool, cause: str | None) -> GateResult:
        return cls(**_fields_of(ingested, IngestResult), quality_key=quality_key, passed=passed, cause=cause)


@dataclass(frozen=True)
class QuarantineRequest(IngestResult):
    """Quarantine's input: the gate's input and the Catch's ``error: {Error, Cause}``."""

    error: str
    cause: str

    @classmethod
    def _parse(cls, event: Any, step: str) -> dict[str, Any]:
        base = IngestResult._parse(event, step)
        error = event.get("error")
        if not isinstance(error, dict):
            raise InvalidEventError(f"{step}: 'error' must be the Catch result {{Error, Cause}}, got {error!r}")
        return {**base, "error": str(error.get("Error", "")), "cause": str(error.get("Cause", ""))}

    @classmethod
    def rejected(cls, judged: GateResult) -> QuarantineRequest:
        """The quarantine of a window the gate rejected (in a batch, where nothing raises)."""
        return cls(**_fields_of(judged, IngestResult), error="DataQualityError", cause=str(judged.cause or ""))


@dataclass(frozen=True)
class QuarantineResult(_Serialised):
    quarantine_key: str


# ---------------------------------------------------------------- Transform → Train


@dataclass(frozen=True)
class DatasetRef(_Serialised):
    """Transform's output: the dataset version a location's history is in (one item of Train's ``datasets``)."""

    location: str
    dataset_version: str
    dataset_prefix: str
    rows: int
    time_start: str
    time_end: str

    @classmethod
    def from_event(cls, event: Any, step: str = "train") -> DatasetRef:
        event = _object(event, step)
        return cls(
            location=_text(event, step, "location"),
            dataset_version=_text(event, step, "dataset_version"),
            dataset_prefix=str(event.get("dataset_prefix") or ""),
            rows=int(event.get("rows") or 0),
            time_start=str(event.get("time_start") or ""),
            time_end=str(event.get("time_end") or ""),
        )


@dataclass(frozen=True)
class _LeftOut(_Serialised):
    """A location this run left out: its name, then texts saying why (absent ones read as "")."""

    location: str

    @classmethod
    def from_event(cls, event: Any, step: str = "train") -> Self:
        event = _object(event, step)
        texts = {name: str(event.get(name) or "") for name in cls.field_names()[1:]}
        return cls(location=_text(event, step, "location"), **texts)


@dataclass(frozen=True)
class Quarantined(_LeftOut):
    """A location whose window the gate rejected in this run (QualityGate's ``quarantined`` entry in a batch)."""

    quarantine_key: str
    cause: str


@dataclass(frozen=True)
class Failed(_LeftOut):
    """A location in a batch (one child execution of the Map) that failed after its retries."""

    error: str
    cause: str


@dataclass(frozen=True)
class TrainRequest(_Serialised):
    """Train's input: the state after the Map, whose ``datasets`` are its results (read from the Map's
    ResultWriter files by ``rps_core.map_results``): a Transform output per location that passed the gate,
    a ``{location, quarantined: true, ...}`` per location it rejected, and a ``{location, failed: true,
    error, cause}`` per location of a failed batch."""

    datasets: tuple[DatasetRef, ...]
    quarantined: tuple[Quarantined, ...] = ()
    failed: tuple[Failed, ...] = ()

    @classmethod
    def from_event(cls, event: Any) -> TrainRequest:
        items = _object(event, "train").get("datasets")
        if not isinstance(items, list) or not items:
            raise InvalidEventError("train: the event needs 'datasets', a non-empty list of the Map's results")
        datasets, quarantined, failed = [], [], []
        for i, item in enumerate(items):
            try:
                if isinstance(item, dict) and item.get("quarantined") is True:
                    quarantined.append(Quarantined.from_event(item))
                elif isinstance(item, dict) and item.get("failed") is True:
                    failed.append(Failed.from_event(item))
                else:
                    datasets.append(DatasetRef.from_event(item))
            except InvalidEventError as exc:
                raise InvalidEventError(f"train: datasets[{i}] needs 'location' and 'dataset_version' ({exc})") from exc
        names = [d.location for d in datasets] + [q.location for q in quarantined] + [f.location for f in failed]
        if len(set(names)) != len(names):
            raise InvalidEventError(f"train: a location appears twice in datasets: {sorted(names)}")
        return cls(tuple(datasets), tuple(quarantined), tuple(failed))

    @property
    def versions(self) -> dict[str, str]:
        """``{location: dataset_version}`` of the locations that passed the gate."""
        return {d.location: d.dataset_version for d in self.datasets}

    def locations(self) -> dict[str, Any]:
        """The run's locations for the execution's output: ``{total, succeeded, quarantined: [names],
        failed: [names]}``."""
        return {
            "total": len(self.datasets) + len(self.quarantined) + len(self.failed),
            "succeeded": len(self.datasets),
            "quarantined": sorted(q.location for q in self.quarantined),
            "failed": sorted(f.location for f in self.failed),
        }


# ---------------------------------------------------------------- a batch of the Distributed Map

BATCH_KEY = "Items"  # ItemBatcher's: a child execution's input is {"Items": [...]}


def batch_items(event: Any, step: str) -> list[Any] | None:
    """The items of a Map batch (``{"Items": [...]}``: each one the step's single-item input), or None when
    ``event`` is one item (a direct invocation). A step's batch output keeps the same key."""
    if not isinstance(event, dict) or BATCH_KEY not in event:
        return None
    items = event[BATCH_KEY]
    if not isinstance(items, list):
        raise InvalidEventError(f"{step}: '{BATCH_KEY}' must be a list of items, got {type(items).__name__}")
    return items


def failed_entry(item: Any, exc: Exception) -> dict[str, Any]:
    """A location of a batch whose step failed with an error of its own (the batch's others go on): its entry
    in the Map's results, ``{location, failed: true, error, cause}``, which Train counts against the
    tolerated share."""
    location = item.get("location") if isinstance(item, dict) else None
    return {**Failed(str(location), type(exc).__name__, str(exc)[:1000]).to_dict(), "failed": True}


def each_location(
    items: list[Any],
    step: Callable[[Any], dict[str, Any]],
    own_errors: tuple[type[Exception], ...],
    retried: tuple[type[Exception], ...] = (),
    on_failure: Callable[[Exception], None] = lambda exc: None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A batch's items through ``step``, one after another: the outputs, and a ``failed_entry`` for each item
    whose step raised one of ``own_errors`` (an error of that location's own: the others go on). Any other
    error, and ``retried`` ones (transient: kinds of ``own_errors`` included), fails the batch, for the state
    machine's Retry."""
    done, failed = [], []
    for item in items:
        try:
            done.append(step(item))
        except own_errors as exc:
            if isinstance(exc, retried):
                raise
            on_failure(exc)
            failed.append(failed_entry(item, exc))
    return done, failed


def _fields_of(value: Any, kind: type[_Serialised]) -> dict[str, Any]:
    return {name: getattr(value, name) for name in kind.field_names()}
