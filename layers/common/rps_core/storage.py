"""S3 access with the guarantees the pipeline relies on.

- ``write_once``: a conditional PUT (If-None-Match: *); an existing object is never overwritten.
- ``put_json``/``put_bytes``: one PUT, so readers see the whole old or the whole new object, never a part.
- Every client is plain boto3; the endpoint comes from ``AWS_ENDPOINT_URL`` (AWS, the local cloud or
  LocalStack), and callers may inject their own client.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

_CONFIG = Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=5, read_timeout=30)


@cache
def s3_client() -> Any:
    """The process's S3 client (created once per Lambda environment, reused while warm)."""
    return boto3.client("s3", config=_CONFIG)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def exists(bucket: str, key: str, client: Any = None) -> bool:
    client = client or s3_client()
    try:
        client.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if _code(exc) in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True


def get_bytes(bucket: str, key: str, client: Any = None) -> bytes | None:
    """The object's bytes, or None when it does not exist."""
    client = client or s3_client()
    try:
        return client.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as exc:
        if _code(exc) in ("404", "NoSuchKey", "NotFound"):
            return None
        raise


def get_json(bucket: str, key: str, client: Any = None) -> Any | None:
    data = get_bytes(bucket, key, client)
    return None if data is None else json.loads(data)


def put_bytes(
    bucket: str,
    key: str,
    body: bytes,
    content_type: str = "application/octet-stream",
    metadata: dict[str, str] | None = None,
    client: Any = None,
) -> str:
    client = client or s3_client()
    resp = client.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type, Metadata=metadata or {})
    return str(resp.get("ETag", ""))


def put_json(bucket: str, key: str, value: Any, metadata: dict[str, str] | None = None, client: Any = None) -> str:
    body = json.dumps(value, indent=1, sort_keys=True, default=str).encode()
    return put_bytes(bucket, key, body, "application/json", metadata, client)


def write_once(
    bucket: str,
    key: str,
    body: bytes,
    content_type: str = "application/json",
    metadata: dict[str, str] | None = None,
    client: Any = None,
) -> bool:
    """PUT only if no object exists at ``key``. Returns False (and writes nothing) when one does."""
    client = client or s3_client()
    try:
        client.put_object(
            Bucket=bucket, Key=key, Body=body, ContentType=content_type, Metadata=metadata or {}, IfNoneMatch="*"
        )
    except ClientError as exc:
        if _code(exc) in ("PreconditionFailed", "ConditionalRequestConflict", "412"):
            return False
        raise
    return True


def move(bucket: str, key: str, dest_key: str, client: Any = None) -> None:
    """Copy then delete: the object is always visible under one of the two keys."""
    client = client or s3_client()
    client.copy_object(Bucket=bucket, Key=dest_key, CopySource={"Bucket": bucket, "Key": key})
    client.delete_object(Bucket=bucket, Key=key)
