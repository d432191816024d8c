"""README's "Interfaces between the steps" table is checked against the contract code (rps_core.contract):
every field of a step's input and output type is named in that step's row, so the prose cannot drift."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest
from rps_core import contract

README = Path(__file__).resolve().parents[2] / "README.md"

# step -> (input type, output type) as the handlers parse and serialise them; None: not a contract type yet
STEPS = {
    "Plan": (None, contract.RunPlan),
    "Ingest": (contract.LocationWindow, contract.IngestResult),
    "QualityGate": (contract.IngestResult, contract.GateResult),
    "Quarantine": (contract.QuarantineRequest, contract.QuarantineResult),
    "Transform": (contract.GateResult, contract.DatasetRef),
    "Train": (contract.TrainRequest, None),
}
# How a cell refers to another step's fields instead of naming them again
REFERENCES = {
    "Ingest's output": ("Ingest", 1),
    "gate input": ("QualityGate", 0),
    "gate output": ("QualityGate", 1),
}


def _rows() -> dict[str, tuple[str, str]]:
    text = README.read_text()
    section = text[text.index("### Interfaces between the steps") :]
    out = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0] in STEPS:
            out[cells[0]] = (cells[1], cells[2])
    return out


def _names(cell: str, step: str) -> set[str]:
    """The field names a cell gives: the words it holds (any case), and the fields of what it refers to."""
    names = {word.lower() for word in re.findall(r"[A-Za-z_]+", cell)}
    referred = [ref for phrase, ref in REFERENCES.items() if phrase in cell]
    if cell.startswith("input +"):
        referred.append((step, 0))
    for other, side in referred:
        kind = STEPS[other][side]
        names |= {f.name for f in fields(kind)} if kind else set()
    return names


def test_every_step_has_a_row():
    assert set(_rows()) >= set(STEPS)


@pytest.mark.parametrize("step", sorted(STEPS))
def test_the_row_names_every_field_of_the_steps_types(step):
    cells = _rows()[step]
    for side, kind, cell in (("in", STEPS[step][0], cells[0]), ("out", STEPS[step][1], cells[1])):
        cell = cell.replace("`", "")
        if kind is None:
            continue
        missing = {f.name for f in fields(kind)} - _names(cell, step)
        assert not missing, f"README's {step} {side}put does not name {sorted(missing)} of {kind.__name__}"
