"""``awslocal`` (LocalStack's wrapper around the AWS CLI, awscli-local in .venv-tools) reaches the local cloud
unchanged: it finds the endpoint as LocalStack's clients do, from ``LOCALSTACK_HOST`` (default
``localhost:4566``, where ``rps up`` listens when the port is free) or ``AWS_ENDPOINT_URL``, and lists the
stack's bucket and state machine. And the S3 API answers a container that calls the host by podman's name for
it (``host.containers.internal``, as ``rps env-vars --endpoint-host`` writes for ``sam local``) path-style,
where stock moto would take "host" for the bucket. And ``rps env-vars --check`` tells a file it wrote for
``sam local --env-vars`` from one another cloud wrote (stale)."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
from pathlib import Path

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("cloud")]

TOOLS_BIN = Path(__file__).resolve().parents[2] / ".venv-tools" / "bin"
AWSLOCAL = TOOLS_BIN / "awslocal"


def _awslocal(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    assert AWSLOCAL.exists(), f"{AWSLOCAL} is missing: make tools-venv installs awscli and awscli-local"
    clean = {k: v for k, v in os.environ.items() if k not in ("LOCALSTACK_HOST", "AWS_ENDPOINT_URL", "EDGE_PORT")}
    environment = {
        **clean,
        "PATH": f"{TOOLS_BIN}:{clean.get('PATH', '')}",  # awslocal runs the `aws` beside it
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "DISABLE_DEPRECATION_NOTICE": "1",
        **env,
    }
    done = subprocess.run(
        [str(AWSLOCAL), *args], capture_output=True, text=True, env=environment, timeout=120, check=False
    )
    assert done.returncode == 0, f"awslocal {' '.join(args)}: exit {done.returncode}\n{done.stderr[-2000:]}"
    return done


def test_awslocal_s3_ls_finds_the_stacks_bucket_by_localstack_host(toy_cloud):
    host = toy_cloud.endpoints["aws_endpoint_url"].removeprefix("http://")
    listing = _awslocal("s3", "ls", LOCALSTACK_HOST=host).stdout
    assert toy_cloud.client.physical_id("ToyBucket") in listing.split()


def test_awslocal_lists_the_state_machine_by_aws_endpoint_url(toy_cloud):
    endpoint = toy_cloud.endpoints["aws_endpoint_url"]
    done = _awslocal("stepfunctions", "list-state-machines", "--output", "json", AWS_ENDPOINT_URL=endpoint)
    arns = {machine["stateMachineArn"] for machine in json.loads(done.stdout)["stateMachines"]}
    assert toy_cloud.client.physical_id("ToyStateMachine") in arns


@pytest.mark.parametrize("name", ["host.containers.internal", "host.docker.internal"])
def test_s3_from_a_container_by_the_hosts_name_is_path_style(toy_cloud, name):
    port = int(toy_cloud.endpoints["aws_endpoint_url"].rsplit(":", 1)[1])
    bucket = toy_cloud.client.physical_id("ToyBucket")
    toy_cloud.client.client("s3").put_object(Bucket=bucket, Key="from-the-host.txt", Body=b"hello")
    # What boto3 in the container sends: a signed request whose Host is the name it called, the bucket in the path
    request = AWSRequest(method="GET", url=f"http://{name}:{port}/{bucket}/from-the-host.txt")
    S3SigV4Auth(Credentials("test", "test"), "s3", "us-east-1").add_auth(request)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)  # the name resolves only in containers
    try:
        connection.request("GET", f"/{bucket}/from-the-host.txt", headers={**request.headers, "Host": f"{name}:{port}"})
        response = connection.getresponse()
        assert (response.status, response.read()) == (200, b"hello")
    finally:
        connection.close()


def test_env_vars_check_accepts_the_file_it_wrote_and_names_a_stale_one(toy_cloud, tmp_path):
    env_file = tmp_path / "env.json"
    done = toy_cloud.rps("env-vars", "--endpoint-host", "host.containers.internal", "--out", str(env_file))
    assert done.returncode == 0, done.stderr
    done = toy_cloud.rps("env-vars", "--check", str(env_file))
    assert done.returncode == 0, done.stderr
    assert "matches the running cloud" in done.stderr
    written = json.loads(env_file.read_text())
    function, variables = next((fn, v) for fn, v in sorted(written.items()) if "BUCKET" in v)
    variables["BUCKET"] = "a-bucket-of-an-earlier-cloud"
    env_file.write_text(json.dumps(written))
    done = toy_cloud.rps("env-vars", "--check", str(env_file))
    assert done.returncode == 2
    assert f"is stale (from another cloud?): {function}: BUCKET is 'a-bucket-of-an-earlier-cloud'" in done.stderr
    done = toy_cloud.rps("env-vars", "--check", str(tmp_path / "missing.json"))
    assert done.returncode == 2
    assert "missing.json: no such file: write it again: rps env-vars" in done.stderr
