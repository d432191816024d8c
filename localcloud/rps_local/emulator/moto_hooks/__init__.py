"""Every hook into moto's internals, in one place. moto is pinned exactly (pyproject.toml);
``check_internals()`` lists what changed when it is upgraded, and a unit test fails loudly on it.

The hooks:
- ``LambdaFunction._invoke_lambda``: the one place moto runs a function (in Docker); ours hands it to the
  worker runtime and writes the output to the function's CloudWatch Logs group;
- ``StateMachine`` CloudFormation create/update/delete: moto's version writes to the store that the Step
  Functions API does not read when execution is on, and ignores DefinitionSubstitutions;
- ``LambdaFunction`` CloudFormation create/update: moto drops the function's Layers, and fails on a
  ``Ref`` to a layer (it resolves to moto's object, not the ARN);
- ``AWS::CloudWatch::Alarm`` for moto's CloudFormation (it has none): PutMetricAlarm from the properties;
- the Step Functions execution switch, and the port its interpreter calls Lambda on (``MOTO_PORT``);
- the Distributed Map's ItemBatcher, tolerated failures and ResultWriter (``distributed_map``).
"""

from __future__ import annotations

import inspect
import json
import os
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import moto
from moto.awslambda.models import LambdaFunction
from moto.awslambda.utils import get_backend as get_lambda_backend
from moto.cloudformation import parsing as cfn_parsing
from moto.cloudwatch.models import Dimension, Metric, MetricDataQuery, MetricStat, cloudwatch_backends
from moto.core.common_models import CloudFormationModel
from moto.core.config import default_user_config
from moto.logs.models import logs_backends
from moto.stepfunctions.models import StateMachine
from moto.stepfunctions.responses import get_backend as get_sfn_backend
from moto.stepfunctions.utils import cfn_to_api_tags

from rps_local.emulator.awslambda.spec import FunctionSpec, InvokeOutcome
from rps_local.emulator.moto_hooks import distributed_map
from rps_local.emulator.stepfunctions.asl import substitute

__all__ = [
    "PINNED_MOTO_VERSION",
    "CloudWatchMetrics",
    "FunctionSpec",
    "InvokeOutcome",
    "check_internals",
    "enable_stepfunctions_execution",
    "install",
    "invoke_function",
    "put_log_lines",
    "uninstall",
]

PINNED_MOTO_VERSION = "5.2.5"
DEFAULT_ACCOUNT, DEFAULT_REGION = "123456789012", "us-east-1"  # moto's account; the template's region


Invoker = Callable[[FunctionSpec, Any], InvokeOutcome]

_originals: dict[str, Any] = {}


def install(invoker: Invoker) -> None:
    """Route every Lambda invocation to ``invoker`` and fix moto's CloudFormation for our resources."""

    def invoke_lambda(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
        outcome = _invoke(self, _event_of(event), invoker)
        return outcome.payload, outcome.errored, outcome.log_tail

    if not _originals:
        _originals["invoke"] = LambdaFunction.__dict__["_invoke_lambda"]
        _originals["fn_create"] = LambdaFunction.__dict__["create_from_cloudformation_json"]
        _originals["fn_update"] = LambdaFunction.__dict__["update_from_cloudformation_json"]
        for name in ("create", "update", "delete"):
            _originals[f"sm_{name}"] = StateMachine.__dict__[f"{name}_from_cloudformation_json"]
    LambdaFunction._invoke_lambda = invoke_lambda  # type: ignore[method-assign]
    LambdaFunction.create_from_cloudformation_json = classmethod(_create_function)  # type: ignore[assignment]
    LambdaFunction.update_from_cloudformation_json = classmethod(_update_function)  # type: ignore[assignment]
    StateMachine.create_from_cloudformation_json = classmethod(_create_state_machine)  # type: ignore[assignment]
    StateMachine.update_from_cloudformation_json = classmethod(_update_state_machine)  # type: ignore[assignment]
    StateMachine.delete_from_cloudformation_json = classmethod(_delete_state_machine)  # type: ignore[assignment]
    distributed_map.install()
    _refresh_model_map()


class CloudWatchAlarmResource(CloudFormationModel):
    """``AWS::CloudWatch::Alarm`` in moto's CloudFormation: the alarm is created with PutMetricAlarm
    (DescribeAlarms lists it; ``Fn::GetAtt Alarm.Arn`` resolves). moto does not evaluate alarms."""

    def __init__(self, name: str, arn: str) -> None:
        self.name, self.arn = name, arn

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CloudWatch::Alarm"

    @staticmethod
    def cloudformation_name_type() -> str:
        return "AlarmName"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Arn"

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return self.arn

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> CloudWatchAlarmResource:
        props = cloudformation_json.get("Properties", {})
        name = props.get("AlarmName", resource_name)
        alarm = cloudwatch_backends[account_id][region_name].put_metric_alarm(
            name=name,
            namespace=props.get("Namespace", ""),
            metric_name=props.get("MetricName", ""),
            metric_data_queries=[_metric_query(m) for m in props["Metrics"]] if props.get("Metrics") else None,
            comparison_operator=props["ComparisonOperator"],
            evaluation_periods=int(props["EvaluationPeriods"]),
            datapoints_to_alarm=int(props["DatapointsToAlarm"]) if "DatapointsToAlarm" in props else None,
            period=int(props.get("Period", 60)),
            threshold=float(props.get("Threshold", 0)),
            statistic=props.get("Statistic", ""),
            extended_statistic=props.get("ExtendedStatistic"),
            description=props.get("AlarmDescription", ""),
            dimensions=[{"Name": d["Name"], "Value": d["Value"]} for d in props.get("Dimensions", [])],
            alarm_actions=[str(a) for a in props.get("AlarmActions", [])],
            ok_actions=[str(a) for a in props.get("OKActions", [])],
            unit=props.get("Unit"),
            treat_missing_data=props.get("TreatMissingData"),
        )
        return cls(name, alarm.alarm_arn)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[override]
        cls,
        original_resource: CloudWatchAlarmResource,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> CloudWatchAlarmResource:
        cls.delete_from_cloudformation_json(original_resource.name, cloudformation_json, account_id, region_name)
        return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        cloudwatch_backends[account_id][region_name].delete_alarms([resource_name])


def _metric_query(query: dict[str, Any]) -> MetricDataQuery:
    stat = query.get("MetricStat")
    metric_stat = None
    if stat:
        metric = stat["Metric"]
        dimensions = [Dimension(d["Name"], d["Value"]) for d in metric.get("Dimensions", [])]
        metric_stat = MetricStat(
            Metric(metric["MetricName"], metric.get("Namespace", ""), dimensions),
            stat.get("Period"),
            stat.get("Stat"),
            stat.get("Unit"),
        )
    return MetricDataQuery(
        query["Id"],
        query.get("Label", ""),
        query.get("Period", ""),
        query.get("ReturnData", True),
        query.get("Expression"),
        metric_stat,
    )


def _refresh_model_map() -> None:
    # moto caches the map of CloudFormation types on first use; a model defined here must be in it
    cfn_parsing.get_model_map.cache_clear()
    cfn_parsing.get_name_type_map.cache_clear()


def uninstall() -> None:
    if not _originals:
        return
    LambdaFunction._invoke_lambda = _originals["invoke"]  # type: ignore[method-assign]
    LambdaFunction.create_from_cloudformation_json = _originals["fn_create"]  # type: ignore[method-assign]
    LambdaFunction.update_from_cloudformation_json = _originals["fn_update"]  # type: ignore[method-assign]
    for name in ("create", "update", "delete"):
        setattr(StateMachine, f"{name}_from_cloudformation_json", _originals[f"sm_{name}"])
    distributed_map.uninstall()
    _originals.clear()


def enable_stepfunctions_execution(port: int) -> None:
    """Run state machines (moto's interpreter), calling Lambda on this server's port."""
    default_user_config["stepfunctions"] = {"execute_state_machine": True}
    os.environ["MOTO_PORT"] = str(port)  # read by moto.settings.moto_server_port()


def function_spec(fn: LambdaFunction) -> FunctionSpec:
    backend = get_lambda_backend(fn.account_id, fn.region)
    layer_keys = []
    for layer in fn.layers or []:
        version = backend.layers_versions_by_arn(layer["Arn"])
        if version is not None and "S3Key" in version.content:
            layer_keys.append(version.content["S3Key"])
    return FunctionSpec(
        name=fn.function_name,
        arn=fn.function_arn,
        handler=fn.handler or "",
        runtime=fn.run_time or "",
        timeout=int(fn.timeout),
        memory_mb=int(fn.memory_size),
        version=str(fn.version),
        environment={k: str(v) for k, v in (fn.environment_vars or {}).items()},
        code_key=(fn.code or {}).get("S3Key"),
        layer_keys=tuple(layer_keys),
        log_group=fn.logs_group_name,
        account_id=fn.account_id,
        region=fn.region,
    )


def invoke_function(
    name: str, event: Any, invoker: Invoker, *, account_id: str = DEFAULT_ACCOUNT, region: str = DEFAULT_REGION
) -> InvokeOutcome:
    """A deployed function invoked as the Invoke API does it, without the API's HTTP round trip through moto's
    server: the function as deployed (moto's Lambda backend), run by ``invoker``, its log lines written to its
    log group. The local HTTP API calls this, as API Gateway calls Lambda from inside AWS."""
    return _invoke(get_lambda_backend(account_id, region).get_function(name), event, invoker)


def _invoke(fn: LambdaFunction, event: Any, invoker: Invoker) -> InvokeOutcome:
    """``fn`` run by ``invoker`` with ``event``, its log lines written to its log group."""
    spec = function_spec(fn)
    outcome = invoker(spec, event)
    put_log_lines(spec.account_id, spec.region, spec.log_group, outcome.log_stream, outcome.log_lines)
    return outcome


class CloudWatchMetrics:
    """``put_metric_data(Namespace=, MetricData=)`` as boto3's CloudWatch client takes it, straight into moto's
    CloudWatch backend: what CloudWatch Logs does with a function's EMF lines inside AWS, without an API call
    through moto's HTTP server for every invocation. moto validates the data as its API does."""

    def __init__(self, account_id: str = DEFAULT_ACCOUNT, region: str = DEFAULT_REGION) -> None:
        self.account_id, self.region = account_id, region

    def put_metric_data(self, *, Namespace: str, MetricData: list[dict[str, Any]]) -> None:
        # moto's API hands its backend naive UTC timestamps
        data = [{**datum, "Timestamp": _naive_utc(datum.get("Timestamp"))} for datum in MetricData]
        cloudwatch_backends[self.account_id][self.region].put_metric_data(Namespace, data)


def _naive_utc(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def put_log_lines(account_id: str, region: str, group: str, stream: str, lines: Iterable[tuple[int, str]]) -> None:
    events = [{"timestamp": ts, "message": text} for ts, text in lines]
    backend = logs_backends[account_id][region]
    backend.ensure_log_group(group)
    backend.ensure_log_stream(group, stream)
    if events:
        backend.put_log_events(group, stream, events)


def _event_of(event: Any) -> Any:
    # moto passes the parsed body, or the text "{}" when the request had none
    if isinstance(event, str):
        try:
            return json.loads(event)
        except json.JSONDecodeError:
            return event
    return {} if event is None else event


def _layer_arns(cloudformation_json: dict[str, Any]) -> list[str]:
    # a Ref to a LayerVersion resolves to moto's object (it has no physical_resource_id): use its ARN
    props = cloudformation_json.get("Properties", {})
    if props.get("Layers"):
        props["Layers"] = [getattr(layer, "arn", layer) for layer in props["Layers"]]
    return props.get("Layers") or []


def _create_function(
    cls: type[LambdaFunction],
    resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> LambdaFunction:
    layers = _layer_arns(cloudformation_json)
    fn = _originals["fn_create"].__func__(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
    if layers:
        fn.layers = fn._get_layers_data(layers)  # moto's create leaves Layers out
    return fn


def _update_function(
    cls: type[LambdaFunction],
    original_resource: LambdaFunction,
    new_resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
) -> LambdaFunction:
    _layer_arns(cloudformation_json)
    return _originals["fn_update"].__func__(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    )


def _definition(props: dict[str, Any]) -> str:
    return substitute(props.get("DefinitionString", ""), props.get("DefinitionSubstitutions") or {})


def _create_state_machine(
    cls: type[StateMachine],
    resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> StateMachine:
    props = cloudformation_json["Properties"]
    backend = get_sfn_backend(account_id, region_name)
    return backend.create_state_machine(
        props.get("StateMachineName", resource_name),
        _definition(props),
        props.get("RoleArn", ""),
        tags=cfn_to_api_tags(props.get("Tags", [])),
        sm_type=props.get("StateMachineType"),
    )


def _update_state_machine(
    cls: type[StateMachine],
    original_resource: StateMachine,
    new_resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
) -> StateMachine:
    props = cloudformation_json.get("Properties", {})
    if props.get("StateMachineName", original_resource.name) != original_resource.name:
        replacement = _create_state_machine(cls, new_resource_name, cloudformation_json, account_id, region_name)
        get_sfn_backend(account_id, region_name).delete_state_machine(original_resource.arn)
        return replacement
    backend = get_sfn_backend(account_id, region_name)
    return backend.update_state_machine(
        original_resource.arn, definition=_definition(props), role_arn=props.get("RoleArn")
    )


def _delete_state_machine(
    cls: type[StateMachine], resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
) -> None:
    get_sfn_backend(account_id, region_name).delete_state_machine(resource_name)


def check_internals() -> list[str]:
    """What differs from the moto internals these hooks were written against (empty when all is as pinned)."""
    problems = []
    if moto.__version__ != PINNED_MOTO_VERSION:
        problems.append(f"moto is {moto.__version__}, the hooks are written for {PINNED_MOTO_VERSION}")
    invoke = _originals.get("invoke", LambdaFunction.__dict__.get("_invoke_lambda"))
    if invoke is None or list(inspect.signature(invoke).parameters) != ["self", "event"]:
        problems.append("LambdaFunction._invoke_lambda(self, event) changed")
    if "self._invoke_lambda(event=body)" not in inspect.getsource(LambdaFunction.invoke):
        problems.append("LambdaFunction.invoke no longer calls self._invoke_lambda(event=body)")
    expected = ["cls", "resource_name", "cloudformation_json", "account_id", "region_name", "kwargs"]
    for owner in (LambdaFunction, StateMachine):
        original = _originals.get("fn_create" if owner is LambdaFunction else "sm_create")
        target = original.__func__ if original else owner.create_from_cloudformation_json.__func__
        if list(inspect.signature(target).parameters) != expected:
            problems.append(f"{owner.__name__}.create_from_cloudformation_json signature changed")
    update = ["cls", "original_resource", "new_resource_name", "cloudformation_json", "account_id", "region_name"]
    for owner in (LambdaFunction, StateMachine):
        original = _originals.get("fn_update" if owner is LambdaFunction else "sm_update")
        target = original.__func__ if original else owner.update_from_cloudformation_json.__func__
        if list(inspect.signature(target).parameters) != update:
            problems.append(f"{owner.__name__}.update_from_cloudformation_json signature changed")
    for name in ("_get_layers_data", "function_arn", "logs_group_name", "environment_vars", "memory_size"):
        if name not in inspect.getsource(LambdaFunction):
            problems.append(f"LambdaFunction.{name} is gone")
    if "stepfunctions" not in default_user_config or "execute_state_machine" not in str(
        inspect.getsource(get_sfn_backend)
    ):
        problems.append("the stepfunctions execute_state_machine switch moved")
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import state_task_lambda
    from moto.stepfunctions.parser.asl.utils import boto_client

    if 'cause_object["errorType"]' not in inspect.getsource(state_task_lambda.StateTaskLambda._from_error):
        problems.append("Step Functions no longer names a Lambda error by its payload's errorType")
    if "moto_server_port()" not in inspect.getsource(boto_client.boto_client_for):
        problems.append("Step Functions no longer calls Lambda at localhost:MOTO_PORT")
    _refresh_model_map()
    if "AWS::CloudWatch::Alarm" not in cfn_parsing.get_model_map():
        problems.append("moto's CloudFormation model map no longer lists CloudFormationModel subclasses")
    alarm_params = set(inspect.signature(cloudwatch_backends["123456789012"]["us-east-1"].put_metric_alarm).parameters)
    if not {"name", "metric_data_queries", "datapoints_to_alarm", "treat_missing_data"} <= alarm_params:
        problems.append("CloudWatchBackend.put_metric_alarm parameters changed")
    if list(inspect.signature(get_lambda_backend(DEFAULT_ACCOUNT, DEFAULT_REGION).get_function).parameters)[:1] != [
        "function_name_or_arn"
    ]:
        problems.append("LambdaBackend.get_function(function_name_or_arn, ...) changed")
    put_metric = cloudwatch_backends[DEFAULT_ACCOUNT][DEFAULT_REGION].put_metric_data
    if list(inspect.signature(put_metric).parameters) != ["namespace", "metric_data"]:
        problems.append("CloudWatchBackend.put_metric_data(namespace, metric_data) changed")
    for name in ("ensure_log_group", "ensure_log_stream", "put_log_events"):
        if not hasattr(logs_backends["123456789012"]["us-east-1"], name):
            problems.append(f"the logs backend has no {name}")
    return problems + distributed_map.check_internals()
