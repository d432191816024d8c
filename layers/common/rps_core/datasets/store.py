"""Dataset versions in S3: ``datasets/location={L}/version={sha256}/`` holding observations.npz,
profile.md and manifest.json (written last: a manifest means a complete version), and ``latest.json``.

A version is immutable (every object written once) and content-addressed (its name is the sha256 of
observations.npz). ``load_version`` verifies that sha256 before returning anything.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from botocore.exceptions import ClientError

from rps_core import storage
from rps_core.contract import dataset_prefix as version_prefix
from rps_core.contract import dataset_root as location_prefix
from rps_core.contract import latest_key
from rps_core.datasets.npz import decode_observations
from rps_core.errors import ConflictError, DatasetError
from rps_core.schema import Observations

OBSERVATIONS = "observations.npz"
MANIFEST = "manifest.json"
PROFILE = "profile.md"
_PRECONDITION = ("PreconditionFailed", "ConditionalRequestConflict", "412")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_manifest(bucket: str, location: str, version: str, client: Any = None) -> dict[str, Any]:
    key = version_prefix(location, version) + MANIFEST
    try:
        manifest = storage.get_json(bucket, key, client)
    except ValueError as exc:
        raise DatasetError(f"s3://{bucket}/{key} is not valid JSON") from exc
    if not isinstance(manifest, dict):
        raise DatasetError(f"dataset {location}/{version}: no manifest at s3://{bucket}/{key}")
    return manifest


def load_version(bucket: str, location: str, version: str, client: Any = None) -> Observations:
    """The observations of a version, after checking them against the sha256 of the manifest and the name."""
    manifest = read_manifest(bucket, location, version, client)
    key = version_prefix(location, version) + OBSERVATIONS
    data = storage.get_bytes(bucket, key, client)
    if data is None:
        raise DatasetError(f"dataset {location}/{version}: s3://{bucket}/{key} is missing")
    digest = sha256_hex(data)
    if digest != manifest.get("sha256") or digest != version:
        raise DatasetError(
            f"dataset {location}/{version}: sha256 of {OBSERVATIONS} is {digest}, "
            f"manifest says {manifest.get('sha256')}: the data is corrupt"
        )
    obs = decode_observations(data, location)
    if len(obs) != manifest.get("rows"):
        raise DatasetError(f"dataset {location}/{version}: {len(obs)} rows, manifest says {manifest.get('rows')}")
    return obs


def read_latest(bucket: str, location: str, client: Any = None) -> tuple[dict[str, Any] | None, str]:
    """The ``latest.json`` pointer of a location (None when there is no version yet) and its ETag."""
    client = client or storage.s3_client()
    try:
        resp = client.get_object(Bucket=bucket, Key=latest_key(location))
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            return None, ""
        raise
    try:
        return json.loads(resp["Body"].read()), str(resp.get("ETag", ""))
    except ValueError as exc:
        raise DatasetError(f"s3://{bucket}/{latest_key(location)} is not valid JSON") from exc


def load_latest(bucket: str, location: str, client: Any = None) -> tuple[str, Observations]:
    """The newest version of a location and its observations; DatasetError when there is none."""
    pointer, _ = read_latest(bucket, location, client)
    if not pointer or "version" not in pointer:
        raise DatasetError(f"no dataset version for {location} in s3://{bucket}/{location_prefix(location)}")
    return pointer["version"], load_version(bucket, location, pointer["version"], client)


def write_version(
    bucket: str, location: str, npz: bytes, manifest: dict[str, Any], profile: str, client: Any = None
) -> bool:
    """Write a version's three objects once each (manifest last); False when the version already existed."""
    prefix = version_prefix(location, manifest["version"])
    storage.write_once(bucket, prefix + OBSERVATIONS, npz, "application/octet-stream", client=client)
    storage.write_once(bucket, prefix + PROFILE, profile.encode(), "text/markdown; charset=utf-8", client=client)
    body = json.dumps(manifest, indent=1, sort_keys=True).encode()
    return storage.write_once(bucket, prefix + MANIFEST, body, "application/json", client=client)


def point_latest(bucket: str, location: str, pointer: dict[str, Any], etag: str, client: Any = None) -> None:
    """Replace ``latest.json`` only if it is still the one read (ETag), so a concurrent Transform that
    merged into the same parent cannot be silently lost; raises ConflictError when it changed."""
    client = client or storage.s3_client()
    condition = {"IfMatch": etag} if etag else {"IfNoneMatch": "*"}
    body = json.dumps(pointer, indent=1, sort_keys=True).encode()
    try:
        client.put_object(
            Bucket=bucket, Key=latest_key(location), Body=body, ContentType="application/json", **condition
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in _PRECONDITION:
            raise ConflictError(f"{latest_key(location)} changed while this version was built") from exc
        raise
