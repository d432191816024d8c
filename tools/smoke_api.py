"""Smoke-test a deployed stack's HTTP API: health, IAM enforced, and one SigV4-signed prediction.

The prediction routes use the AWS_IAM authorizer, so requests are signed with SigV4 (service
``execute-api``) from the caller's credentials (boto3's usual chain: env, profile, the OIDC role in CI).

    python tools/smoke_api.py --stack rps-prod [--region R] [--run-pipeline-if-needed] [--timeout 900]
    python tools/smoke_api.py --api-url URL --location JFK [--no-auth-check]     (any API, e.g. local)

Checks, in order, each printed as it passes: GET /health (unsigned) is 200; GET /forecast/{location}
unsigned is 403 (auth enforced); GET /model signed is 200 (with --run-pipeline-if-needed, a 503 "no
champion yet" on a fresh stack starts one pipeline execution and waits for it); GET /forecast/{location}
signed is 200 with a finite ``value``. Exits 1 at the first failure.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


class SmokeError(Exception):
    """A check failed; the message says which and what came back."""


@dataclass
class Response:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


def request(
    method: str,
    url: str,
    *,
    credentials: Credentials | None = None,
    region: str = "",
    body: bytes | None = None,
    timeout: float = 30.0,
) -> Response:
    """One HTTP request; SigV4-signed for ``execute-api`` when ``credentials`` are given."""
    headers = {"Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    if credentials is not None:
        aws_request = AWSRequest(method=method, url=url, data=body, headers=headers)
        SigV4Auth(credentials, "execute-api", region).add_auth(aws_request)
        headers = dict(aws_request.headers.items())
    if not url.startswith(("https://", "http://")):
        raise SmokeError(f"not an http(s) URL: {url}")
    req = urllib.request.Request(url, data=body, headers=headers, method=method)  # noqa: S310 - http(s) only, checked
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - http(s) only, checked above
            return Response(resp.status, resp.read())
    except urllib.error.HTTPError as exc:
        return Response(exc.code, exc.read())


def _expect(name: str, response: Response, status: int) -> Response:
    if response.status != status:
        raise SmokeError(f"{name}: expected HTTP {status}, got {response.status}: {response.body[:300]!r}")
    print(f"ok   {name}: HTTP {status}")
    return response


def run_pipeline(state_machine_arn: str, region: str, timeout_s: float, client: Any = None) -> None:
    """Start one execution of the pipeline and wait until it ends; raise unless it SUCCEEDED."""
    sfn = client or boto3.client("stepfunctions", region_name=region)
    name = f"smoke-{int(time.time())}"
    arn = sfn.start_execution(stateMachineArn=state_machine_arn, name=name, input="{}")["executionArn"]
    print(f"...  no champion yet: started pipeline execution {name}")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = sfn.describe_execution(executionArn=arn)["status"]
        if status != "RUNNING":
            if status != "SUCCEEDED":
                raise SmokeError(f"pipeline execution {name} ended {status}")
            print(f"ok   pipeline execution {name}: SUCCEEDED")
            return
        time.sleep(10)
    raise SmokeError(f"pipeline execution {name} still running after {timeout_s:.0f} s")


def smoke(
    api_url: str,
    location: str,
    credentials: Credentials,
    region: str,
    *,
    auth_check: bool = True,
    start_pipeline: Any = None,
) -> dict[str, Any]:
    """Run the checks; returns the signed forecast. ``start_pipeline()`` runs when there is no champion."""
    api_url = api_url.rstrip("/")
    _expect("GET /health", request("GET", f"{api_url}/health"), 200)
    forecast_url = f"{api_url}/forecast/{location}"
    if auth_check:
        _expect(f"GET /forecast/{location} unsigned is refused", request("GET", forecast_url), 403)
    model = request("GET", f"{api_url}/model", credentials=credentials, region=region)
    if model.status == 503 and start_pipeline is not None:
        start_pipeline()
        model = request("GET", f"{api_url}/model", credentials=credentials, region=region)
    info = _expect("GET /model signed", model, 200).json()
    print(f"     champion {info.get('model_version')} ({info.get('target')}, {info.get('horizon_hours')} h)")
    signed = request("GET", forecast_url, credentials=credentials, region=region)
    forecast = _expect(f"GET /forecast/{location} signed", signed, 200).json()
    value = forecast.get("value") if isinstance(forecast, dict) else None
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise SmokeError(f"GET /forecast/{location}: no finite value in {forecast!r}")
    print(f"ok   forecast {location} {forecast.get('target_time')}: {value}")
    return forecast


def stack_facts(stack: str, region: str, client: Any = None) -> dict[str, str]:
    """The stack's outputs and parameters (by key) from CloudFormation."""
    cfn = client or boto3.client("cloudformation", region_name=region)
    (desc,) = cfn.describe_stacks(StackName=stack)["Stacks"]
    facts = {p["ParameterKey"]: p.get("ParameterValue", "") for p in desc.get("Parameters", [])}
    facts.update({o["OutputKey"]: o["OutputValue"] for o in desc.get("Outputs", [])})
    return facts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", help="read the API URL, locations and state machine from this stack")
    parser.add_argument("--api-url", help="the API's base URL (instead of --stack)")
    parser.add_argument("--location", help="the location to forecast (default: the stack's first)")
    parser.add_argument("--region", default=None)
    parser.add_argument("--no-auth-check", dest="auth_check", action="store_false")
    parser.add_argument("--run-pipeline-if-needed", action="store_true")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for the pipeline")
    args = parser.parse_args(argv)
    session = boto3.Session(region_name=args.region)
    region = session.region_name or "us-east-1"
    credentials = session.get_credentials()
    if credentials is None:
        print("FAIL no AWS credentials to sign with", file=sys.stderr)
        return 1
    frozen = credentials.get_frozen_credentials()
    signer = Credentials(frozen.access_key, frozen.secret_key, frozen.token)
    try:
        facts = stack_facts(args.stack, region) if args.stack else {}
        api_url = args.api_url or facts.get("HttpApiUrl")
        location = args.location or facts.get("Locations", "").split(",")[0].split(":")[0]
        if not api_url or not location:
            raise SmokeError("give --stack, or --api-url and --location")
        machine = facts.get("PipelineStateMachineArn")
        start = None
        if args.run_pipeline_if_needed and machine:
            start = lambda: run_pipeline(machine, region, args.timeout)  # noqa: E731
        smoke(api_url, location, signer, region, auth_check=args.auth_check, start_pipeline=start)
    except SmokeError as exc:
        print(f"FAIL {exc}", file=sys.stderr)
        return 1
    print("smoke: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
