"""The local cloud's layout holds: the emulator (one subpackage per AWS service) imports neither the product
nor the tools; the tools may import both. Read from the source (ast), so a lazy import inside a function
counts as much as one at the top."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "localcloud" / "rps_local"
EMULATOR = PACKAGE / "emulator"
PRODUCT = ("rps_core", "rps_serving", "handler")  # the library, serving, the functions' handler modules


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def emulator_modules() -> list[Path]:
    return sorted(EMULATOR.rglob("*.py"))


@pytest.mark.parametrize("path", emulator_modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_the_emulator_imports_neither_the_product_nor_the_tools(path: Path) -> None:
    forbidden = sorted(
        name
        for name in imported_modules(path)
        if name.split(".")[0] in PRODUCT or name == "rps_local.tools" or name.startswith("rps_local.tools.")
    )
    assert forbidden == [], f"{path.relative_to(PACKAGE)} imports {forbidden}"


def test_the_package_is_the_emulator_and_the_tools_only() -> None:
    top = sorted(p.name for p in PACKAGE.iterdir() if p.name != "__pycache__")
    assert top == ["__init__.py", "emulator", "tools"]


def test_each_aws_service_has_its_subpackage() -> None:
    services = {p.name for p in EMULATOR.iterdir() if (p / "__init__.py").exists()}
    assert {
        "apigateway",
        "awslambda",
        "cloudformation",
        "cloudwatch",
        "eventbridge",
        "moto_hooks",
        "stepfunctions",
    } <= services


def test_every_hook_into_motos_internals_is_in_moto_hooks() -> None:
    """Only moto_hooks reaches into moto's models; the rest of the emulator uses moto's server or boto3."""
    outside = sorted(
        f"{path.relative_to(PACKAGE)}: {name}"
        for path in emulator_modules()
        if "moto_hooks" not in path.parts
        for name in imported_modules(path)
        if name.startswith("moto.") and name != "moto.server"
    )
    assert outside == []


def test_the_emulator_has_no_import_cycle() -> None:
    """No module of the emulator imports (directly or not) one that imports it back."""
    graph: dict[str, set[str]] = {}
    for path in emulator_modules():
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        graph[name] = {m for m in imported_modules(path) if m.startswith("rps_local.emulator")}
    for name in graph:
        graph[name] = {m for m in graph[name] if m in graph and m != name}

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in graph[start]:
            if nxt == goal or (nxt not in seen and (seen.add(nxt) or reaches(nxt, goal, seen))):
                return True
        return False

    cycles = sorted(name for name in graph if reaches(name, name, set()))
    assert cycles == []
