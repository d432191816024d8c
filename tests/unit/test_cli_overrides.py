"""``--parameter-overrides`` of ``rps up`` and ``rps deploy`` in the forms ``sam deploy`` takes; anything
else a clear error, never a value silently merged with the next word or dropped."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from rps_local.emulator.errors import LocalCloudError
from rps_local.tools.cli.common import parse_overrides
from rps_local.tools.cli.main import main

from tests.support import sam_parse

ROOT = Path(__file__).resolve().parents[2]

VALID = [
    (["Source=file"], {"Source": "file"}),
    (["Source=file SourceFile=/data/x.json"], {"Source": "file", "SourceFile": "/data/x.json"}),
    (["Source=file", "SourceFile=/data/x.json"], {"Source": "file", "SourceFile": "/data/x.json"}),
    (['Greeting="hello world" Other=1'], {"Greeting": "hello world", "Other": "1"}),
    (["Greeting='hello world'"], {"Greeting": "hello world"}),
    (["ParameterKey=Source,ParameterValue=file"], {"Source": "file"}),
    (
        ["ParameterKey=Source,ParameterValue=file ParameterKey=Locations,ParameterValue=JFK:40.6:-73.8,LGA:40.8:-73.9"],
        {"Source": "file", "Locations": "JFK:40.6:-73.8,LGA:40.8:-73.9"},
    ),
    (['ParameterKey=Greeting,ParameterValue="a b"'], {"Greeting": "a b"}),
    (["Url=http://x/?a=b"], {"Url": "http://x/?a=b"}),
    (["A=1  B=2 "], {"A": "1", "B": "2"}),
    ([], {}),
    (None, {}),
]


@pytest.mark.parametrize(("items", "expected"), VALID)
def test_sam_forms(items: list[str] | None, expected: dict[str, str]) -> None:
    assert parse_overrides(items) == expected


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (["Greeting=hello world"], "'world' is not Key=Value (quote a value that holds spaces)"),
        (["Source"], "'Source' is not Key=Value"),
        (["=file"], "'' is not a parameter name"),
        (["My-Key=1"], "'My-Key' is not a parameter name"),
        (['Greeting="hello'], "no closing quotation"),
        (["ParameterKey=Source"], "is not ParameterKey=Key,ParameterValue=Value"),
        (["ParameterKey=Source,UsePreviousValue=true"], "is not ParameterKey=Key,ParameterValue=Value"),
        (["A=1 A=2"], "A is given twice ('1' and '2')"),
    ],
)
def test_malformed_is_a_clear_error(items: list[str], message: str) -> None:
    with pytest.raises(LocalCloudError, match=r"^--parameter-overrides: ") as error:
        parse_overrides(items)
    assert message in str(error.value)


def test_rps_up_rejects_a_malformed_override_before_starting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["up", "--state-dir", str(tmp_path), "--parameter-overrides", "Source=file extra"])
    assert code == 2
    assert "rps up: error: --parameter-overrides: 'extra' is not Key=Value" in capsys.readouterr().err
    assert not (tmp_path / "endpoints.json").exists()


def test_samconfig_overrides_read_as_sam_reads_them() -> None:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    envs = {env: section for env, section in config.items() if isinstance(section, dict)}
    assert envs
    for env, section in envs.items():
        listed = section.get("deploy", {}).get("parameters", {}).get("parameter_overrides")
        if listed:
            assert parse_overrides(listed) == sam_parse(listed), env


def test_same_answers_as_sam_cli() -> None:
    for items, expected in VALID:
        if items:
            assert sam_parse(items) == expected, items
