"""Check the state machines of template.yaml where cfn-lint and `sam validate` do not look.

For every ``AWS::Serverless::StateMachine`` with a ``DefinitionUri`` file (the ASL in JSONPath), in every
scope (the top level, each Map's ItemProcessor or Iterator, each Parallel branch):

- ``StartAt``, every ``Next``, ``Default`` and ``Catch`` target names a state of the same scope;
- every state is reachable from ``StartAt``;
- every state that is not terminal (Succeed, Fail, Choice) has ``Next`` or ``End: true``;
- every ``${Name}`` placeholder is defined in the resource's ``DefinitionSubstitutions``, and every
  substitution is used (an unused one is usually a misspelt placeholder).

The ASL schema itself (state types, fields) is asl-validator's job (`make check-asl` runs both).

    python tools/check_asl.py [template.yaml]      exit 1 and one line per problem when any
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cfn_template import load_template, resources_of_type

PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
TERMINAL_TYPES = {"Succeed", "Fail", "Choice"}


def _scopes(machine: dict[str, Any], where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(location, scope) for the machine and every nested Map processor or Parallel branch."""
    yield where, machine
    for name, state in (machine.get("States") or {}).items():
        if not isinstance(state, dict):
            continue
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if isinstance(processor, dict):
            yield from _scopes(processor, f"{where}/{name}")
        for i, branch in enumerate(state.get("Branches") or []):
            if isinstance(branch, dict):
                yield from _scopes(branch, f"{where}/{name}[{i}]")


def _targets(state: dict[str, Any]) -> list[tuple[str, Any]]:
    """(field, target) for every transition out of a state."""
    found: list[tuple[str, Any]] = []
    if "Next" in state:
        found.append(("Next", state["Next"]))
    if "Default" in state:
        found.append(("Default", state["Default"]))
    for i, rule in enumerate(state.get("Choices") or []):
        if isinstance(rule, dict) and "Next" in rule:
            found.append((f"Choices[{i}].Next", rule["Next"]))
    for i, catcher in enumerate(state.get("Catch") or []):
        if isinstance(catcher, dict) and "Next" in catcher:
            found.append((f"Catch[{i}].Next", catcher["Next"]))
    return found


def check_definition(definition: dict[str, Any], where: str = "$") -> list[str]:
    """Problems with the transitions of an ASL definition: unknown targets, unreachable states, dead ends."""
    problems: list[str] = []
    for scope_at, scope in _scopes(definition, where):
        states = scope.get("States")
        if not isinstance(states, dict) or not states:
            problems.append(f"{scope_at}: no States")
            continue
        start = scope.get("StartAt")
        if start not in states:
            problems.append(f"{scope_at}: StartAt names an unknown state {start!r}")
        for name, state in states.items():
            if not isinstance(state, dict):
                problems.append(f"{scope_at}/{name}: not an object")
                continue
            for field, target in _targets(state):
                if target not in states:
                    problems.append(f"{scope_at}/{name}: {field} names an unknown state {target!r}")
            if state.get("Type") not in TERMINAL_TYPES and "Next" not in state and state.get("End") is not True:
                problems.append(f"{scope_at}/{name}: neither Next nor End: true")
        reached: set[str] = set()
        todo = [start] if start in states else []
        while todo:
            name = todo.pop()
            if name in reached:
                continue
            reached.add(name)
            state = states[name]
            if isinstance(state, dict):
                todo.extend(t for _, t in _targets(state) if t in states)
        for name in states:
            if name not in reached:
                problems.append(f"{scope_at}/{name}: unreachable from StartAt {start!r}")
    return problems


def check_placeholders(text: str, substitutions: set[str], where: str = "$") -> list[str]:
    """Placeholders that no substitution defines, and substitutions that no placeholder uses."""
    used = set(PLACEHOLDER.findall(text))
    problems = [f"{where}: ${{{name}}} is not in DefinitionSubstitutions" for name in sorted(used - substitutions)]
    problems += [f"{where}: DefinitionSubstitutions.{name} is never used" for name in sorted(substitutions - used)]
    return problems


def check_template(template_path: str | Path) -> list[str]:
    """Every problem in the ASL files of the template's state machines (an empty list when all is well)."""
    template_path = Path(template_path)
    template = load_template(template_path)
    machines = resources_of_type(template, "AWS::Serverless::StateMachine")
    problems: list[str] = []
    for logical_id, resource in machines.items():
        props = resource.get("Properties") or {}
        uri = props.get("DefinitionUri")
        if not isinstance(uri, str):
            continue  # an inline Definition or an S3 location: nothing on disk to check
        asl_path = template_path.parent / uri
        where = f"{logical_id} ({uri})"
        try:
            text = asl_path.read_text()
            definition = json.loads(text)
        except (OSError, ValueError) as exc:
            problems.append(f"{where}: cannot read the definition: {exc}")
            continue
        problems += check_definition(definition, where)
        problems += check_placeholders(text, set(props.get("DefinitionSubstitutions") or {}), where)
    return problems


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    template_path = Path(args[0] if args else "template.yaml")
    problems = check_template(template_path)
    for problem in problems:
        print(problem)
    print(f"check_asl: {template_path}: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
