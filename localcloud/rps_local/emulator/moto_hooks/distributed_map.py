"""Step Functions' Distributed Map as AWS runs it, on moto's interpreter (LocalStack's port), which
- has no ``ItemBatcher`` in its grammar: the parser hook takes it out of the definition before moto parses it
  and gives it to the Map's iteration component, which batches the items read (``{"Items": [...]}``);
- drops failed child executions silently: the map run hook counts them and fails the Map with
  ``States.ExceedToleratedFailureThreshold`` past ``ToleratedFailureCount``/``ToleratedFailurePercentage``;
- writes an empty ``ResultWriter`` manifest: the S3 hook writes AWS's files (``manifest.json``,
  ``SUCCEEDED_0.json``, ``FAILED_0.json``), each result with its input, output or error and cause.

Imported by ``moto_hooks`` only (every hook into moto's internals goes through it); ``check_internals`` lists
what changed in moto's code these hooks replace.
"""

from __future__ import annotations

import datetime
import inspect
import json
from typing import Any

from moto.stepfunctions.parser.api import HistoryEventType, MapRunFailedEventDetails
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.distributed_iteration_component import (
    DistributedIterationComponent,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor.distributed_item_processor_worker import (  # noqa: E501
    DistributedItemProcessorWorker,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.job import JobPool
from moto.stepfunctions.parser.asl.component.state.exec.state_map.max_concurrency import (
    DEFAULT_MAX_CONCURRENCY_VALUE,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval.resource_eval_s3 import (
    ResourceEvalS3,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.state_map import StateMap
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.eval.program_state import ProgramEnded, ProgramError, ProgramTimedOut
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.utils.json_path import extract_json

__all__ = ["MapDefinitionError", "batches", "check_internals", "install", "strip_item_batchers", "uninstall"]

_BATCHER_FIELDS = {"MaxItemsPerBatch", "MaxItemsPerBatchPath", "MaxInputBytesPerBatch", "MaxInputBytesPerBatchPath"}
_originals: dict[str, Any] = {}


class MapDefinitionError(ValueError):
    """A Distributed Map field the local cloud does not emulate (moto reports it as InvalidDefinition)."""


def install() -> None:
    if not _originals:
        _originals["parse"] = AmazonStateLanguageParser.__dict__["parse"]
        _originals["map_run"] = DistributedIterationComponent.__dict__["_map_run"]
        _originals["eval_job"] = DistributedItemProcessorWorker.__dict__["_eval_job"]
        _originals["put_object"] = ResourceEvalS3.__dict__["_handle_put_object"]
    AmazonStateLanguageParser.parse = staticmethod(_parse)  # type: ignore[method-assign]
    DistributedIterationComponent._map_run = _map_run  # type: ignore[method-assign]
    DistributedItemProcessorWorker._eval_job = _eval_job  # type: ignore[method-assign]
    ResourceEvalS3._handle_put_object = staticmethod(_write_results)  # type: ignore[method-assign]


def uninstall() -> None:
    if _originals:
        AmazonStateLanguageParser.parse = _originals["parse"]  # type: ignore[method-assign]
        DistributedIterationComponent._map_run = _originals["map_run"]  # type: ignore[method-assign]
        DistributedItemProcessorWorker._eval_job = _originals["eval_job"]  # type: ignore[method-assign]
        ResourceEvalS3._handle_put_object = _originals["put_object"]  # type: ignore[method-assign]


# ---------------------------------------------------------------- ItemBatcher


def strip_item_batchers(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Remove every Map state's ``ItemBatcher`` from ``definition`` (in place); return them by state name
    (state names are unique in a whole state machine)."""
    found: dict[str, dict[str, Any]] = {}

    def visit(states: dict[str, Any]) -> None:
        for name, state in states.items():
            if not isinstance(state, dict):
                continue
            if state.get("Type") == "Map" and "ItemBatcher" in state:
                batcher = state.pop("ItemBatcher")
                _check_batcher(name, state, batcher)
                found[name] = batcher
            for inner in (state.get("ItemProcessor"), state.get("Iterator"), *state.get("Branches", [])):
                if isinstance(inner, dict) and isinstance(inner.get("States"), dict):
                    visit(inner["States"])

    if isinstance(definition.get("States"), dict):
        visit(definition["States"])
    return found


def _check_batcher(name: str, state: dict[str, Any], batcher: Any) -> None:
    if not isinstance(batcher, dict):
        raise MapDefinitionError(f"{name}: ItemBatcher must be an object")
    unknown = set(batcher) - _BATCHER_FIELDS - {"BatchInput"}
    if unknown:
        raise MapDefinitionError(f"{name}: unknown ItemBatcher fields {sorted(unknown)}")
    if not {"MaxItemsPerBatch", "MaxItemsPerBatchPath"} & set(batcher):
        raise MapDefinitionError(f"{name}: the local cloud batches by MaxItemsPerBatch or MaxItemsPerBatchPath")
    if "ItemSelector" in state or any(k.endswith(".$") for k in batcher.get("BatchInput") or {}):
        raise MapDefinitionError(
            f"{name}: the local cloud does not emulate ItemSelector or BatchInput paths with ItemBatcher"
        )


def batches(items: list[Any], batcher: dict[str, Any], state_input: Any) -> list[dict[str, Any]]:
    """``items`` as AWS's ItemBatcher hands them to child executions: ``{"Items": [...]}`` (plus ``BatchInput``),
    at most MaxItemsPerBatch items and MaxInputBytesPerBatch bytes each."""
    max_items = _batch_limit(batcher, "MaxItemsPerBatch", state_input)
    max_bytes = _batch_limit(batcher, "MaxInputBytesPerBatch", state_input)
    extra = {"BatchInput": batcher["BatchInput"]} if "BatchInput" in batcher else {}
    out: list[dict[str, Any]] = []
    current: list[Any] = []
    size = 0
    for item in items:
        item_size = len(json.dumps(item))
        full = (max_items and len(current) >= max_items) or (max_bytes and current and size + item_size > max_bytes)
        if full:
            out.append({**extra, "Items": current})
            current, size = [], 0
        current.append(item)
        size += item_size
    if current:
        out.append({**extra, "Items": current})
    return out


def _batch_limit(batcher: dict[str, Any], name: str, state_input: Any) -> int:
    value = batcher.get(name)
    if f"{name}Path" in batcher:
        value = extract_json(batcher[f"{name}Path"], state_input)
    if value is None:
        return 0
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"ItemBatcher {name} must be a positive integer, got {value!r}")
    return value


def _parse(definition: str) -> Any:
    try:
        spec = json.loads(definition)
    except ValueError:
        return _originals["parse"](definition)  # moto names the syntax error
    batchers = strip_item_batchers(spec) if isinstance(spec, dict) else {}
    if not batchers:
        return _originals["parse"](definition)
    program, tree = _originals["parse"](json.dumps(spec))
    _attach(program.states.states, batchers)
    return program, tree


def _attach(states: dict[str, Any], batchers: dict[str, dict[str, Any]]) -> None:
    for name, state in states.items():
        if isinstance(state, StateMap):
            if name in batchers:
                state.iteration_component.rps_item_batcher = batchers[name]  # type: ignore[attr-defined]
            _attach(state.iteration_component._states.states, batchers)


# ---------------------------------------------------------------- the map run: batches, failures, tolerance


def _map_run(self: DistributedIterationComponent, env: Any, eval_input: Any) -> None:
    items: list[Any] = env.stack.pop()
    batcher = getattr(self, "rps_item_batcher", None)
    inputs = batches(items, batcher, env.stack[-1]) if batcher else items
    job_pool = JobPool(job_program=self._get_iteration_program(), job_inputs=inputs)
    job_pool.rps_failures = {}  # type: ignore[attr-defined]
    record = eval_input.map_run_record
    workers = len(inputs) if record.max_concurrency == DEFAULT_MAX_CONCURRENCY_VALUE else record.max_concurrency
    for _ in range(min(workers, len(inputs))):
        self._launch_worker(env=env, eval_input=eval_input, job_pool=job_pool)
    if inputs:
        job_pool.await_jobs()
    worker_exception = job_pool.get_worker_exception()
    if worker_exception is not None:
        raise worker_exception
    closed = sorted(job_pool.get_closed_jobs(), key=lambda job: job.job_index)
    failures: dict[int, dict[str, str]] = job_pool.rps_failures  # type: ignore[attr-defined]
    record.rps_results = [  # for the ResultWriter: what each child execution got and gave
        (inputs[job.job_index], job.job_output, failures.get(job.job_index)) for job in closed
    ]
    failed_items = sum(len(inputs[i]["Items"]) if batcher else 1 for i in failures)
    if failed_items and _exceeds(failed_items, len(items), eval_input):
        first = failures[min(failures)]
        cause = (  # AWS's cause names the threshold; the first child's error is added for the reader
            f"{failed_items} of {len(items)} items failed, over the tolerated "
            f"{eval_input.tolerated_failure_percentage:g}% / {eval_input.tolerated_failure_count} items; "
            f"first failure: {first['Error']}: {first['Cause'][:500]}"
        )
        raise FailureEventException(
            FailureEvent(
                env=env,
                error_name=StatesErrorName(typ=StatesErrorNameType.StatesExceedToleratedFailureThreshold),
                event_type=HistoryEventType.MapRunFailed,
                event_details=EventDetails(
                    mapRunFailedEventDetails=MapRunFailedEventDetails(
                        error="States.ExceedToleratedFailureThreshold", cause=cause
                    )
                ),
            )
        )
    env.stack.append([job.job_output for job in closed])


def _exceeds(failed: int, total: int, eval_input: Any) -> bool:
    """AWS's rule: with no tolerance set any failure fails the Map; else exceeding either threshold does."""
    count, percentage = eval_input.tolerated_failure_count, eval_input.tolerated_failure_percentage
    checks = []
    if count > 0:
        checks.append(failed > count)
    if percentage > 0:
        checks.append(100.0 * failed / max(total, 1) > percentage)
    return any(checks) if checks else True


def _eval_job(self: DistributedItemProcessorWorker, env: Any, job: Any) -> None:
    _originals["eval_job"](self, env, job)
    state = env.program_state()
    if isinstance(state, ProgramEnded):
        return
    if isinstance(state, ProgramError) and state.error:
        failure = {"Error": str(state.error.get("error", "")), "Cause": str(state.error.get("cause", ""))}
    elif isinstance(state, ProgramTimedOut):
        failure = {"Error": "States.Timeout", "Cause": "the child execution timed out"}
    else:
        failure = {"Error": "States.Runtime", "Cause": f"the child execution ended as {type(state).__name__}"}
    self._job_pool.rps_failures[job.job_index] = failure  # type: ignore[attr-defined]


# ---------------------------------------------------------------- ResultWriter


def _write_results(env: Any, resource_runtime_part: Any, state_credentials: Any) -> None:
    parameters = env.stack.pop()
    env.stack.pop()  # the children's outputs, as the Map would return them without a ResultWriter
    s3 = ResourceEvalS3._get_s3_client(resource_runtime_part=resource_runtime_part, state_credentials=state_credentials)
    record = env.map_run_record_pool_manager.get_all().pop()
    bucket, prefix = parameters["Bucket"], parameters.get("Prefix", "")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    base = f"{prefix}{record.map_run_arn.split(':')[-1]}/"
    files: dict[str, list[dict[str, Any]]] = {"FAILED": [], "PENDING": [], "SUCCEEDED": []}
    entries: dict[str, list[dict[str, Any]]] = {"FAILED": [], "SUCCEEDED": []}
    for index, (child_input, output, failure) in enumerate(getattr(record, "rps_results", [])):
        entries["FAILED" if failure else "SUCCEEDED"].append(_result_entry(record, index, child_input, output, failure))
    for status, rows in entries.items():
        if rows:
            body = json.dumps(rows).encode()
            key = f"{base}{status}_0.json"
            s3.put_object(Bucket=bucket, Key=key, Body=body)
            files[status].append({"Key": key, "Size": len(body)})
    manifest = {"DestinationBucket": bucket, "MapRunArn": record.map_run_arn, "ResultFiles": files}
    key = f"{base}manifest.json"
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(manifest, indent=2).encode())
    env.stack.append({"MapRunArn": record.map_run_arn, "ResultWriterDetails": {"Bucket": bucket, "Key": key}})


def _result_entry(
    record: Any, index: int, child_input: Any, output: Any, failure: dict[str, str] | None
) -> dict[str, Any]:
    name = f"{record.map_run_arn.split(':')[-1]}-{index}"
    now = datetime.datetime.now(tz=datetime.UTC).isoformat()
    entry: dict[str, Any] = {  # a child execution: arn:...:execution:MACHINE/MAP_RUN:NAME
        "ExecutionArn": f"{record.map_state_machine_arn.replace(':stateMachine:', ':execution:', 1)}:{name}",
        "Input": json.dumps(child_input),
        "InputDetails": {"Included": True},
        "Name": name,
        "StartDate": record.start_date.isoformat(),
        "StateMachineArn": record.map_state_machine_arn,
        "Status": "FAILED" if failure else "SUCCEEDED",
        "StopDate": now,
    }
    if failure:
        entry.update(failure)
    else:
        entry.update({"Output": json.dumps(output), "OutputDetails": {"Included": True}})
    return entry


def check_internals() -> list[str]:
    """What changed in the moto code these hooks replace or rely on (empty when all is as pinned)."""
    problems = []
    original_map_run = _originals.get("map_run", DistributedIterationComponent.__dict__["_map_run"])
    source = inspect.getsource(original_map_run)
    for piece in ("input_items: list[json] = env.stack.pop()", "JobPool(", "env.stack.append(outputs)"):
        if piece not in source:
            problems.append(f"DistributedIterationComponent._map_run changed: no {piece!r}")
    writer = inspect.getsource(_originals.get("put_object", ResourceEvalS3.__dict__["_handle_put_object"]))
    if "env.stack.pop()  # TODO: results" not in writer:
        problems.append("ResourceEvalS3._handle_put_object changed (does moto write the results itself now?)")
    parse = _originals.get("parse", AmazonStateLanguageParser.__dict__["parse"])
    if list(inspect.signature(parse).parameters) != ["definition"]:
        problems.append("AmazonStateLanguageParser.parse(definition) changed")
    if "ItemBatcher" in inspect.getsource(StateMap):
        problems.append("moto's StateMap knows ItemBatcher now: the batching hook may be dropped")
    worker = inspect.getsource(_originals.get("eval_job", DistributedItemProcessorWorker.__dict__["_eval_job"]))
    if "job.job_output = job_output" not in worker:
        problems.append("DistributedItemProcessorWorker._eval_job changed")
    return problems
