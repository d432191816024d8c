"""Deploys a prepared template to the local cloud with CloudFormation (moto's), through plain boto3,
as ``sam deploy`` would: placeholder code objects, then create_stack or update_stack."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from rps_local.emulator.cloudformation.template import CODE_BUCKET, PreparedTemplate
from rps_local.emulator.errors import DeployError

__all__ = ["Deployment", "deploy"]


@dataclass(frozen=True)
class Deployment:
    """What a deploy created: logical id → physical id and type, and the stack outputs."""

    stack_name: str
    resources: dict[str, tuple[str, str]] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)

    def physical_ids(self, resource_type: str) -> dict[str, str]:
        return {lid: pid for lid, (kind, pid) in self.resources.items() if kind == resource_type}

    @property
    def functions(self) -> dict[str, str]:
        return self.physical_ids("AWS::Lambda::Function")

    @property
    def state_machines(self) -> dict[str, str]:
        return self.physical_ids("AWS::StepFunctions::StateMachine")

    @property
    def rules(self) -> dict[str, str]:
        return self.physical_ids("AWS::Events::Rule")


def deploy(
    session: Any, endpoint_url: str, prepared: PreparedTemplate, stack_name: str, parameters: dict[str, str]
) -> Deployment:
    """Create or update ``stack_name``; raise ``DeployError`` naming the template when the stack fails."""
    s3 = session.client("s3", endpoint_url=endpoint_url)
    cfn = session.client("cloudformation", endpoint_url=endpoint_url)
    _upload_code_placeholders(s3, prepared)
    body = json.dumps(prepared.cfn)
    params = [{"ParameterKey": k, "ParameterValue": str(v)} for k, v in sorted(parameters.items())]
    capabilities = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
    try:
        if _stack_exists(cfn, stack_name):
            try:
                cfn.update_stack(StackName=stack_name, TemplateBody=body, Parameters=params, Capabilities=capabilities)
            except ClientError as exc:
                if "No updates are to be performed" not in str(exc):
                    raise
        else:
            cfn.create_stack(StackName=stack_name, TemplateBody=body, Parameters=params, Capabilities=capabilities)
        stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    except ClientError as exc:
        raise DeployError(f"{prepared.path}: the stack {stack_name} failed: {exc}") from exc
    except (BotoCoreError, ResponseParserError) as exc:  # moto's CloudFormation crashed (an HTML 500)
        raise DeployError(
            f"{prepared.path}: moto's CloudFormation failed on stack {stack_name} "
            f"(the cloud's log has the traceback): {type(exc).__name__}"
        ) from exc
    if not stack["StackStatus"].endswith("_COMPLETE") or "ROLLBACK" in stack["StackStatus"]:
        raise DeployError(
            f"{prepared.path}: the stack {stack_name} ended {stack['StackStatus']}: "
            f"{stack.get('StackStatusReason', '')}"
        )
    resources = {}
    paginator = cfn.get_paginator("list_stack_resources")
    for page in paginator.paginate(StackName=stack_name):
        for item in page["StackResourceSummaries"]:
            resources[item["LogicalResourceId"]] = (item["ResourceType"], item.get("PhysicalResourceId", ""))
    outputs = {o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs", [])}
    return Deployment(stack_name=stack_name, resources=resources, outputs=outputs)


def _stack_exists(cfn: Any, stack_name: str) -> bool:
    try:
        stacks = cfn.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError:
        return False
    return any(s["StackStatus"] != "DELETE_COMPLETE" for s in stacks)


def _upload_code_placeholders(s3: Any, prepared: PreparedTemplate) -> None:
    """moto's Lambda reads function and layer code from S3 at create time; the local runtime runs the
    source directory itself, so each object is a small zip that only names that directory."""
    try:
        s3.head_bucket(Bucket=CODE_BUCKET)
    except ClientError:
        s3.create_bucket(Bucket=CODE_BUCKET)
    for key, directory in prepared.code_dirs.items():
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("RPS_LOCAL_SOURCE.txt", f"The local cloud runs this code from {directory}\n")
        s3.put_object(Bucket=CODE_BUCKET, Key=key, Body=buffer.getvalue())
