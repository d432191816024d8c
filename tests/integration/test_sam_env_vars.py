"""``rps env-vars``: the ``--env-vars`` file for ``sam local invoke`` against the running cloud. Every function
gets its deployed environment (bucket names and ARNs resolved) and ``AWS_ENDPOINT_URL`` pointing at the
cloud; SAM CLI's own resolver (samcli.local.lambdafn.env_vars, from .venv-tools) applies them, which it does
only for variables the template declares (aws-sam-cli #6145), so the template declares AWS_ENDPOINT_URL."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("cloud")]

PROJECT = Path(__file__).resolve().parents[2]
SAM_PYTHON = PROJECT / ".venv-tools" / "bin" / "python"
# SAM's own merge of a function's template variables with an --env-vars entry
RESOLVE = """
import json, sys
from samcli.local.lambdafn.env_vars import EnvironmentVariables
declared, overrides = json.loads(sys.argv[1]), json.loads(sys.argv[2])
resolved = EnvironmentVariables("PlanFunction", 512, 120, "app.lambda_handler", variables=declared,
                                override_values=overrides).resolve()
print(json.dumps(resolved))
"""


def _declared_variables() -> dict[str, str]:
    """The variables template.yaml declares for every function (Globals), as SAM reads them."""

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    template = yaml.load((PROJECT / "template.yaml").read_text(), Loader=Loader)
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    return {name: "" if value is None else str(value) for name, value in variables.items()}


def test_env_vars_point_sam_local_at_the_cloud(rps_cloud, tmp_path):
    out = tmp_path / "env.json"
    done = rps_cloud.rps("env-vars", "--endpoint-host", "host.containers.internal", "--out", str(out))
    assert done.returncode == 0, done.stderr
    env = json.loads(out.read_text())
    client = rps_cloud.client
    port = rps_cloud.endpoints["aws_endpoint_url"].rsplit(":", 1)[1]
    assert set(env) >= {"PlanFunction", "TrainFunction", "RegisterFunction", "ServingFunction"}
    plan = env["PlanFunction"]
    assert plan["AWS_ENDPOINT_URL"] == f"http://host.containers.internal:{port}"
    assert plan["DATA_BUCKET"] == client.physical_id("DataBucket")
    # MLflow as the containers see it: the same server, by the name their engine gives this machine
    mlflow_port = rps_cloud.endpoints["mlflow_tracking_uri"].rsplit(":", 1)[1]
    assert env["RegisterFunction"]["MLFLOW_TRACKING_URI"] == f"http://host.containers.internal:{mlflow_port}"
    # SAM CLI applies them: AWS_ENDPOINT_URL too, because the template declares it
    declared = _declared_variables()
    assert "AWS_ENDPOINT_URL" in declared
    done = subprocess.run(
        [str(SAM_PYTHON), "-c", RESOLVE, json.dumps(declared), json.dumps(plan)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    resolved = json.loads(done.stdout)
    assert resolved["AWS_ENDPOINT_URL"] == plan["AWS_ENDPOINT_URL"]
    assert resolved["DATA_BUCKET"] == plan["DATA_BUCKET"]
