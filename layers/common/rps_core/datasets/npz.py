"""observations.npz, byte for byte reproducible: the same observations always give the same bytes, so the
file's sha256 is the dataset version (``np.savez`` stamps the current time into its zip entries)."""

from __future__ import annotations

import io
import zipfile

import numpy as np

from rps_core.errors import DatasetError
from rps_core.schema import Observations

_EPOCH_ZIP = (1980, 1, 1, 0, 0, 0)
COORDINATES = ("latitude", "longitude")


def encode_observations(obs: Observations) -> bytes:
    """``time`` as int64 hours since the epoch, one float64 array per variable in sorted name order, and the
    coordinates (when known) as one-element float64 arrays."""
    arrays = {"time": obs.time.astype("datetime64[h]").astype("int64")}
    arrays |= {name: np.asarray(obs.values[name], dtype="float64") for name in sorted(obs.values)}
    if obs.latitude is not None and obs.longitude is not None:
        arrays |= {name: np.array([getattr(obs, name)], dtype="float64") for name in COORDINATES}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_EPOCH_ZIP)
            with archive.open(info, "w") as member:
                np.lib.format.write_array(member, np.ascontiguousarray(array), allow_pickle=False)
    return buffer.getvalue()


def decode_observations(data: bytes, location: str) -> Observations:
    """The inverse of ``encode_observations``; raises DatasetError on anything unreadable."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise DatasetError(f"{location}: observations.npz is unreadable ({exc})") from exc
    if "time" not in arrays:
        raise DatasetError(f"{location}: observations.npz has no 'time' array")
    time = arrays.pop("time").astype("int64").astype("datetime64[h]")
    # Versions written before the coordinates were stored have none: build_features then names the gap.
    place = [_scalar(arrays.pop(name), name, location) if name in arrays else None for name in COORDINATES]
    if any(v.shape != time.shape for v in arrays.values()):
        raise DatasetError(f"{location}: observations.npz arrays differ in length")
    return Observations(location, time, {k: v.astype("float64") for k, v in arrays.items()}, *place)


def _scalar(array: np.ndarray, name: str, location: str) -> float:
    if array.shape != (1,) or not np.isfinite(array[0]):
        raise DatasetError(f"{location}: observations.npz {name} is not one finite number")
    return float(array[0])
