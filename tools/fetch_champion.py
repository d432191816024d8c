"""Print the champion pointer (``champion/pointer.json``) of a running local cloud as JSON.

    python tools/fetch_champion.py [.rps/endpoints.json]

The local cloud names its buckets as the template's stack makes them, so the model bucket is found by
looking for the pointer rather than by name. Exits 1 when no bucket holds one.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

POINTER_KEY = "champion/pointer.json"


def find_pointer(s3: Any) -> tuple[str, dict[str, Any]] | None:
    """(bucket, pointer) of the first bucket holding a champion pointer, or None."""
    for bucket in sorted(b["Name"] for b in s3.list_buckets().get("Buckets", [])):
        try:
            body = s3.get_object(Bucket=bucket, Key=POINTER_KEY)["Body"].read()
        except ClientError:
            continue
        return bucket, json.loads(body)
    return None


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    endpoints = json.loads(Path(args[0] if args else ".rps/endpoints.json").read_text())
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(name, "testing")
    s3 = boto3.client("s3", endpoint_url=endpoints["aws_endpoint_url"], region_name="us-east-1")
    found = find_pointer(s3)
    if found is None:
        print(f"no bucket at {endpoints['aws_endpoint_url']} holds {POINTER_KEY}", file=sys.stderr)
        return 1
    bucket, pointer = found
    print(json.dumps(pointer, indent=1, sort_keys=True))
    print(f"champion pointer from s3://{bucket}/{POINTER_KEY}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
