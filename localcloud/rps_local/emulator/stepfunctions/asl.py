"""Checks of a state machine definition (ASL, JSONPath) that neither SAM nor moto make before it runs:
every transition names a state of its scope, and every ``${...}`` placeholder has a DefinitionSubstitution."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from rps_local.emulator.errors import AslError

__all__ = ["PLACEHOLDER", "check_definition", "load_definition", "substitute"]

PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
_STATE_TYPES = {"Task", "Pass", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map"}


def load_definition(path: Path, substitutions: Mapping[str, Any]) -> str:
    """The definition text at ``path``, checked; placeholders stay in place (the deployer fills them)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise AslError(f"{path}: cannot read the state machine definition: {exc.strerror}") from exc
    check_definition(text, substitutions, source=str(path))
    return text


def check_definition(text: str, substitutions: Mapping[str, Any], *, source: str) -> None:
    """Raise ``AslError`` naming ``source`` for bad JSON, an unknown state or an unresolved placeholder."""
    missing = sorted({name for name in PLACEHOLDER.findall(text) if name not in substitutions})
    if missing:
        known = ", ".join(sorted(substitutions)) or "none"
        names = ", ".join(f"${{{name}}}" for name in missing)
        raise AslError(f"{source}: unresolved substitution {names} (DefinitionSubstitutions has: {known})")
    try:
        definition = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AslError(f"{source}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    if not isinstance(definition, dict):
        raise AslError(f"{source}: the definition must be a JSON object")
    problems = list(_scope_problems(definition, "the top level"))
    if problems:
        raise AslError(f"{source}: " + "; ".join(problems))


def substitute(text: str, values: Mapping[str, Any]) -> str:
    """Replace each ``${Key}`` by its value, as Step Functions does with DefinitionSubstitutions."""
    return PLACEHOLDER.sub(lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0), text)


def _scope_problems(scope: Mapping[str, Any], where: str) -> Iterator[str]:
    states = scope.get("States")
    if not isinstance(states, dict) or not states:
        yield f"{where} has no States"
        return
    if scope.get("StartAt") not in states:
        yield f"StartAt of {where} names unknown state {scope.get('StartAt')!r}"
    for name, state in states.items():
        if not isinstance(state, dict):
            yield f"state {name!r} is not an object"
            continue
        if state.get("Type") not in _STATE_TYPES:
            yield f"state {name!r} has unknown Type {state.get('Type')!r}"
        for field, target in _transitions(state):
            if target not in states:
                yield f"state {name!r} ({where}): {field} names unknown state {target!r}"
        terminal = state.get("Type") in {"Choice", "Succeed", "Fail"} or state.get("End") is True
        if not terminal and "Next" not in state:
            yield f"state {name!r} ({where}) has neither Next nor End"
        for label, inner in _inner_scopes(name, state):
            yield from _scope_problems(inner, label)


def _transitions(state: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    if "Next" in state:
        yield "Next", state["Next"]
    if "Default" in state:
        yield "Default", state["Default"]
    for i, choice in enumerate(state.get("Choices") or []):
        if isinstance(choice, dict) and "Next" in choice:
            yield f"Choices[{i}].Next", choice["Next"]
    for i, catcher in enumerate(state.get("Catch") or []):
        if isinstance(catcher, dict):
            yield f"Catch[{i}].Next", catcher.get("Next")


def _inner_scopes(name: str, state: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for key in ("ItemProcessor", "Iterator"):
        if isinstance(state.get(key), dict):
            yield f"{name}'s {key}", state[key]
    for i, branch in enumerate(state.get("Branches") or []):
        if isinstance(branch, dict):
            yield f"{name}'s Branches[{i}]", branch
