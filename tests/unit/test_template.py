"""template.yaml as deployed: least-privilege IAM, private TLS-only buckets, IAM auth, MLflow URI from SSM.

IAM is checked on the template after SAM's own transform (aws-sam-translator, offline), so policy
templates such as S3ReadPolicy are checked as the statements they expand to.
"""

from __future__ import annotations

import copy
import re
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

from cfn_template import load_template, resources_of_type  # noqa: E402

# Routes anyone may call; every other route of the HTTP API must require IAM (SigV4).
PUBLIC_ROUTES = {("GET", "/health"), ("GET", "/docs"), ("GET", "/openapi.json")}
# S3 actions that destroy or expose data, or rewrite bucket rules: no function may hold them.
FORBIDDEN_S3_ACTIONS = {
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:DeleteBucket",
    "s3:PutObjectAcl",
    "s3:PutBucketAcl",
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
    "s3:PutLifecycleConfiguration",
    "s3:PutBucketVersioning",
    "s3:PutBucketPublicAccessBlock",
}
# Which bucket each function may write (s3:PutObject): the least-privilege design, stated once.
WRITES = {
    "PlanFunction": {"DataBucket"},
    "IngestFunction": {"DataBucket"},
    "QualityGateFunction": {"DataBucket"},
    "TransformFunction": {"DataBucket"},
    "TrainFunction": {"ModelBucket"},
    "RegisterFunction": {"ModelBucket"},
    "ForecastFunction": {"DataBucket"},
    "DriftFunction": {"DataBucket"},
    "ServingFunction": set(),
}


@pytest.fixture(scope="module")
def sam() -> dict[str, Any]:
    return load_template(ROOT / "template.yaml")


def translate(template: dict[str, Any]) -> dict[str, Any]:
    """The CloudFormation template SAM makes of ``template`` (local code paths replaced by S3 URIs)."""
    import boto3
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    template = copy.deepcopy(template)
    for name, res in template["Resources"].items():
        props = res.get("Properties") or {}
        for key in ("CodeUri", "ContentUri", "DefinitionUri"):
            if isinstance(props.get(key), str):
                props[key] = f"s3://code/{name}/{key}"
    session = boto3.session.Session(region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    return Translator({}, Parser(), boto_session=session).translate(
        template, parameter_values={}, get_managed_policy_map=lambda: {}
    )


@pytest.fixture(scope="module")
def cfn(sam: dict[str, Any]) -> dict[str, Any]:
    return translate(sam)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _allow_statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    statements = []
    for policy in role["Properties"].get("Policies", []):
        for st in _as_list(policy["PolicyDocument"]["Statement"]):
            if st.get("Effect") == "Allow":
                statements.append(st)
    return statements


def _function_roles(cfn: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each function's generated role, by the function's logical ID."""
    roles = {}
    for name, fn in resources_of_type(cfn, "AWS::Lambda::Function").items():
        role_ref = fn["Properties"]["Role"]
        roles[name] = cfn["Resources"][role_ref["Fn::GetAtt"][0]]
    return roles


def _buckets_in(resource: Any) -> set[str]:
    """Logical IDs of the buckets a statement's Resource names (through Ref, GetAtt or Sub)."""
    text = repr(resource)
    return {b for b in ("DataBucket", "ModelBucket") if b in text}


def test_sam_translates_the_template_and_every_function_has_its_own_role(cfn: dict[str, Any]) -> None:
    roles = _function_roles(cfn)
    assert set(roles) >= set(WRITES), "a function of the least-privilege table is missing from the template"
    assert len({id(r) for r in roles.values()}) == len(roles)


def wildcard_actions(cfn: dict[str, Any]) -> list[str]:
    """``ROLE: ACTION`` for every allowed action with a wildcard."""
    found = []
    for name, role in resources_of_type(cfn, "AWS::IAM::Role").items():
        for st in _allow_statements(role):
            found += [f"{name}: {a}" for a in _as_list(st["Action"]) if "*" in a]
    return found


def forbidden_actions(cfn: dict[str, Any]) -> dict[str, set[str]]:
    """The destructive S3 actions each function holds (only functions that hold any)."""
    held = {}
    for name, role in _function_roles(cfn).items():
        actions = {a for st in _allow_statements(role) for a in _as_list(st["Action"])}
        if actions & FORBIDDEN_S3_ACTIONS:
            held[name] = actions & FORBIDDEN_S3_ACTIONS
    return held


def written_buckets(cfn: dict[str, Any]) -> dict[str, set[str]]:
    """The buckets each function may s3:PutObject into."""
    return {
        name: {
            bucket
            for st in _allow_statements(role)
            if "s3:PutObject" in _as_list(st["Action"])
            for bucket in _buckets_in(st["Resource"])
        }
        for name, role in _function_roles(cfn).items()
    }


def test_no_allow_statement_grants_a_wildcard_action(cfn: dict[str, Any]) -> None:
    assert wildcard_actions(cfn) == []


# What SAM attaches: logs (BasicExecutionRole) and, with Tracing: Active, X-Ray's write-only policy
# (PutTraceSegments, PutTelemetryRecords, the sampling rules): nothing that reads or changes data.
MANAGED_POLICIES = ("AWSLambdaBasicExecutionRole", "AWSXrayWriteOnlyAccess")


def test_roles_attach_only_the_logging_and_tracing_managed_policies(cfn: dict[str, Any]) -> None:
    for name, role in resources_of_type(cfn, "AWS::IAM::Role").items():
        for arn in role["Properties"].get("ManagedPolicyArns", []):
            assert any(policy in repr(arn) for policy in MANAGED_POLICIES), f"{name} attaches {arn}"


def test_no_function_may_delete_data_or_change_bucket_rules(cfn: dict[str, Any]) -> None:
    assert forbidden_actions(cfn) == {}


def test_each_function_writes_only_the_buckets_it_owns(cfn: dict[str, Any]) -> None:
    written = written_buckets(cfn)
    assert {n: written[n] for n in WRITES} == WRITES


def test_the_checks_catch_a_broad_policy(sam: dict[str, Any]) -> None:
    # GIVEN the serving function granted SAM's S3CrudPolicy on the model bucket and a wildcard statement
    broad = copy.deepcopy(sam)
    policies = broad["Resources"]["ServingFunction"]["Properties"]["Policies"]
    policies.append({"S3CrudPolicy": {"BucketName": {"Ref": "ModelBucket"}}})
    policies.append({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
    cfn = translate(broad)
    # THEN each check names it
    assert any(w.startswith("ServingFunctionRole: s3:*") for w in wildcard_actions(cfn))
    assert "s3:DeleteObject" in forbidden_actions(cfn)["ServingFunction"]
    assert written_buckets(cfn)["ServingFunction"] == {"ModelBucket"}


def test_only_the_drift_monitor_can_start_the_pipeline(cfn: dict[str, Any]) -> None:
    starters = {
        name
        for name, role in _function_roles(cfn).items()
        for st in _allow_statements(role)
        if "states:StartExecution" in _as_list(st["Action"])
    }
    assert starters == {"DriftFunction"}


def test_the_state_machine_may_only_invoke_the_templates_functions_and_run_its_map(cfn: dict[str, Any]) -> None:
    (machine,) = resources_of_type(cfn, "AWS::StepFunctions::StateMachine").values()
    role = cfn["Resources"][machine["Properties"]["RoleArn"]["Fn::GetAtt"][0]]
    functions = set(resources_of_type(cfn, "AWS::Lambda::Function"))
    others = []
    for st in _allow_statements(role):
        if _as_list(st["Action"]) == ["lambda:InvokeFunction"]:
            named = {f for f in functions if f in repr(st["Resource"])}
            assert named, f"an invoke statement names no function of the template: {st['Resource']}"
        else:
            others.append((sorted(_as_list(st["Action"])), repr(st["Resource"])))
    # The Distributed Map: the run's items and results under the data bucket's runs/, its own child executions
    for actions, resource in others:
        if all(a.startswith("s3:") for a in actions):
            assert "DataBucket.Arn}/runs/" in resource, resource
            assert "s3:PutObject" not in actions or "/runs/map-results/*" in resource, resource
        else:
            assert set(actions) <= {"states:StartExecution", "states:DescribeExecution", "states:StopExecution"}
            assert "${AWS::StackName}-pipeline" in resource, resource
    assert {a for actions, _ in others for a in actions} >= {"s3:GetObject", "s3:PutObject", "states:StartExecution"}


def test_buckets_are_private_encrypted_and_versioned(sam: dict[str, Any]) -> None:
    buckets = resources_of_type(sam, "AWS::S3::Bucket")
    assert set(buckets) >= {"DataBucket", "ModelBucket"}
    for name, bucket in buckets.items():
        props = bucket["Properties"]
        rules = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rules and rules[0]["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms"}, name
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}, name
        block = props["PublicAccessBlockConfiguration"]
        assert all(
            block.get(k) is True
            for k in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")
        ), name


def test_every_bucket_refuses_requests_without_tls(sam: dict[str, Any]) -> None:
    policies = resources_of_type(sam, "AWS::S3::BucketPolicy")
    for name in resources_of_type(sam, "AWS::S3::Bucket"):
        denies = [
            st
            for p in policies.values()
            if p["Properties"]["Bucket"] == {"Ref": name}
            for st in _as_list(p["Properties"]["PolicyDocument"]["Statement"])
            if st.get("Effect") == "Deny"
            and st.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
            and st.get("Principal") in ("*", {"AWS": "*"})
            and "s3:*" in _as_list(st.get("Action"))
        ]
        assert denies, f"{name} has no TLS-only bucket policy"
        resources = _as_list(denies[0]["Resource"])
        assert {"Fn::GetAtt": [name, "Arn"]} in resources, f"{name}: the deny does not cover the bucket"
        assert {"Fn::Sub": f"${{{name}.Arn}}/*"} in resources, f"{name}: the deny does not cover its objects"


def _routes(sam: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    routes = {}
    for fn in resources_of_type(sam, "AWS::Serverless::Function").values():
        for event in (fn["Properties"].get("Events") or {}).values():
            if event["Type"] == "HttpApi":
                props = event["Properties"]
                routes[(props["Method"].upper(), props["Path"])] = props
    return routes


def test_prediction_routes_require_iam_and_health_stays_open(sam: dict[str, Any]) -> None:
    routes = _routes(sam)
    assert ("GET", "/health") in routes and ("POST", "/predict") in routes
    for route, props in routes.items():
        authorizer = (props.get("Auth") or {}).get("Authorizer")
        if route in PUBLIC_ROUTES:
            assert authorizer in (None, "NONE"), f"{route} should stay open"
        else:
            assert authorizer == "AWS_IAM", f"{route} is callable without SigV4"


def test_mlflow_tracking_uri_comes_from_ssm_when_a_parameter_is_named(sam: dict[str, Any]) -> None:
    env = sam["Globals"]["Function"]["Environment"]["Variables"]["MLFLOW_TRACKING_URI"]
    condition, from_ssm, plain = env["Fn::If"]
    assert condition == "HasMlflowParameter"
    assert from_ssm == {"Fn::Sub": "{{resolve:ssm:${MlflowTrackingUriParameter}}}"}
    assert plain == {"Ref": "MlflowTrackingUri"}
    assert sam["Parameters"]["MlflowTrackingUri"]["Default"] == "", "no tracking URI may be baked in"


def test_every_function_gets_the_git_commit_it_was_deployed_from(sam: dict[str, Any]) -> None:
    parameter = sam["Parameters"]["GitCommit"]
    assert parameter["Default"] == ""
    pattern = re.compile(parameter["AllowedPattern"])
    assert pattern.fullmatch("0123abc") and pattern.fullmatch("a" * 40) and pattern.fullmatch("")
    assert not pattern.fullmatch("main; rm -rf /") and not pattern.fullmatch("0123ABC")
    assert sam["Globals"]["Function"]["Environment"]["Variables"]["GIT_COMMIT"] == {"Ref": "GitCommit"}


def test_outputs_that_the_deploy_smoke_test_reads(sam: dict[str, Any]) -> None:
    assert {"HttpApiUrl", "PipelineStateMachineArn"} <= set(sam["Outputs"])


def test_every_route_is_throttled(cfn: dict[str, Any]) -> None:
    (stage,) = resources_of_type(cfn, "AWS::ApiGatewayV2::Stage").values()
    limits = stage["Properties"]["DefaultRouteSettings"]
    assert limits["ThrottlingRateLimit"] > 0 and limits["ThrottlingBurstLimit"] > 0
