"""What the Lambda hook hands the worker runtime, and what it gets back (no moto import here, so the
runtime and the cloud can be imported without moto's import time)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FunctionSpec", "InvokeOutcome"]


@dataclass(frozen=True)
class FunctionSpec:
    """What the worker runtime needs of a deployed function, read from moto's model of it."""

    name: str
    arn: str
    handler: str
    runtime: str
    timeout: int
    memory_mb: int
    version: str
    environment: dict[str, str]
    code_key: str | None
    layer_keys: tuple[str, ...]
    log_group: str
    account_id: str
    region: str


@dataclass(frozen=True)
class InvokeOutcome:
    """A finished invocation: the response payload (JSON text), whether it is a function error, and the
    log lines ``(epoch ms, text)`` to write to ``log_stream``; ``log_tail`` is what Invoke returns as LogResult."""

    payload: str
    errored: bool
    log_stream: str
    log_lines: list[tuple[int, str]]
    log_tail: str
