"""template.yaml → CloudFormation for moto: aws-sam-translator does the SAM transform; this module only
points the local paths (CodeUri, ContentUri, DefinitionUri) at placeholder S3 objects first, and puts the
checked ASL text in place of the state machine's S3 location afterwards."""

from __future__ import annotations

import base64
import copy
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from rps_local.emulator.errors import CodeUriError, TemplateError
from rps_local.emulator.stepfunctions.asl import load_definition

__all__ = [
    "CODE_BUCKET",
    "PreparedTemplate",
    "code_dir_of_key",
    "code_key",
    "git_commit",
    "load_sam_template",
    "prepare",
]

CODE_BUCKET = "rps-local-code"
REGION = "us-east-1"
_KEY_PREFIX, _KEY_SUFFIX = "code/", ".zip"


@dataclass(frozen=True)
class PreparedTemplate:
    """A template ready for ``create_stack``; ``code_dirs`` maps each placeholder S3 key to its directory."""

    path: Path
    sam: dict[str, Any]
    cfn: dict[str, Any]
    code_dirs: dict[str, Path] = field(default_factory=dict)
    parameters: dict[str, str] = field(default_factory=dict)


def code_key(directory: Path) -> str:
    """The placeholder S3 key of a local code directory; the worker runtime decodes it back."""
    encoded = base64.urlsafe_b64encode(str(directory.resolve()).encode()).decode().rstrip("=")
    return f"{_KEY_PREFIX}{encoded}{_KEY_SUFFIX}"


def code_dir_of_key(key: str) -> Path | None:
    if not (key.startswith(_KEY_PREFIX) and key.endswith(_KEY_SUFFIX)):
        return None
    encoded = key[len(_KEY_PREFIX) : -len(_KEY_SUFFIX)]
    return Path(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode())


class _CfnLoader(yaml.SafeLoader):
    """A YAML loader that reads CloudFormation's short tags (!Ref, !GetAtt, !Sub...) as intrinsic dicts."""


def _install_intrinsics() -> None:
    from samtranslator.yaml_helper import intrinsics_multi_constructor

    _CfnLoader.add_multi_constructor("!", intrinsics_multi_constructor)


_install_intrinsics()


_parsed: dict[Path, tuple[str, dict[str, Any]]] = {}  # path → (text, template): PyYAML in Python is slow


def load_sam_template(path: Path) -> dict[str, Any]:
    """The template at ``path`` (a copy: callers may change it), parsed again only when its text changed."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TemplateError(f"{path}: cannot read the template: {exc.strerror}") from exc
    cached = _parsed.get(path)
    if cached is not None and cached[0] == text:
        return copy.deepcopy(cached[1])
    template = _parse(path, text)
    _parsed[path] = (text, template)
    return copy.deepcopy(template)


def _parse(path: Path, text: str) -> dict[str, Any]:
    try:
        template = yaml.load(text, Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 1} column {where.column + 1}" if where else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise TemplateError(f"{path}: not valid YAML: {problem}{at}") from exc
    if not isinstance(template, dict) or not isinstance(template.get("Resources"), dict):
        raise TemplateError(f"{path}: not a template: it needs a Resources mapping")
    return template


def prepare(
    path: Path, parameter_overrides: dict[str, str] | None = None, defaults: dict[str, str] | None = None
) -> PreparedTemplate:
    """Read, check and translate the SAM template at ``path``. Raises a ``LocalCloudError`` naming the file.

    ``parameter_overrides`` must name declared parameters; ``defaults`` (what the local cloud knows, such as
    the checked-out commit) apply to the declared ones that are not overridden, and are ignored otherwise.
    """
    path = path.resolve()
    sam = load_sam_template(path)
    declared = sam.get("Parameters") or {}
    unknown = sorted(set(parameter_overrides or {}) - set(declared))
    if unknown:
        raise TemplateError(f"{path}: parameter {', '.join(unknown)} not declared (declared: {', '.join(declared)})")
    overrides = {k: v for k, v in (defaults or {}).items() if k in declared} | dict(parameter_overrides or {})
    local = copy.deepcopy(sam)
    code_dirs: dict[str, Path] = {}
    definitions: dict[str, str] = {}
    _localize_code(local, path, code_dirs)
    for logical_id, resource in local["Resources"].items():
        if isinstance(resource, dict) and resource.get("Type") == "AWS::Serverless::StateMachine":
            _localize_definition(logical_id, resource.get("Properties") or {}, path, definitions)
    cfn = _translate(local, overrides, path)
    for logical_id, text in definitions.items():
        props = cfn["Resources"][logical_id]["Properties"]
        props.pop("DefinitionS3Location", None)
        props["DefinitionString"] = text
    return PreparedTemplate(path=path, sam=sam, cfn=cfn, code_dirs=code_dirs, parameters=overrides)


def _localize_code(template: dict[str, Any], path: Path, code_dirs: dict[str, Path]) -> None:
    globals_fn = (template.get("Globals") or {}).get("Function") or {}
    if isinstance(globals_fn.get("CodeUri"), str):
        globals_fn["CodeUri"] = _local_uri("Globals.Function", "CodeUri", globals_fn["CodeUri"], path, code_dirs)
    for logical_id, resource in template["Resources"].items():
        if not isinstance(resource, dict):
            raise TemplateError(f"{path}: resource {logical_id} is not a mapping")
        props = resource.setdefault("Properties", {}) or {}
        kind = resource.get("Type")
        if kind == "AWS::Serverless::Function" and isinstance(props.get("CodeUri"), str):
            props["CodeUri"] = _local_uri(logical_id, "CodeUri", props["CodeUri"], path, code_dirs)
        elif kind == "AWS::Serverless::Function" and "CodeUri" not in props and "InlineCode" not in props:
            if "CodeUri" not in globals_fn and props.get("PackageType") != "Image":
                raise CodeUriError(f"{path}: {logical_id} has no CodeUri")
        elif kind == "AWS::Serverless::LayerVersion" and isinstance(props.get("ContentUri"), str):
            props["ContentUri"] = _local_uri(logical_id, "ContentUri", props["ContentUri"], path, code_dirs)


def _local_uri(owner: str, prop: str, value: str, path: Path, code_dirs: dict[str, Path]) -> str:
    if value.startswith("s3://"):
        return value
    directory = (path.parent / value).resolve()
    if not directory.is_dir():
        raise CodeUriError(f"{path}: {owner}: {prop} {value!r} is not a directory ({directory})")
    key = code_key(directory)
    code_dirs[key] = directory
    return f"s3://{CODE_BUCKET}/{key}"


def _localize_definition(logical_id: str, props: dict[str, Any], path: Path, definitions: dict[str, str]) -> None:
    uri = props.get("DefinitionUri")
    if not isinstance(uri, str) or uri.startswith("s3://"):
        return
    substitutions = props.get("DefinitionSubstitutions") or {}
    definitions[logical_id] = load_definition((path.parent / uri).resolve(), substitutions)
    # the translator wants an S3 location; the text replaces it after the transform
    props["DefinitionUri"] = f"s3://{CODE_BUCKET}/definitions/{logical_id}.asl.json"


def _translate(template: dict[str, Any], overrides: dict[str, str], path: Path) -> dict[str, Any]:
    import boto3
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    creds = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}  # it calls no AWS API
    session = boto3.session.Session(region_name=REGION, **creds)
    try:
        translated = Translator({}, Parser(), boto_session=session).translate(
            template, parameter_values=dict(overrides), get_managed_policy_map=lambda: {}
        )
    except InvalidDocumentException as exc:
        causes = "; ".join(str(getattr(cause, "message", cause)) for cause in exc.causes)
        raise TemplateError(f"{path}: SAM rejects the template: {causes}") from exc
    except Exception as exc:  # the translator raises plain errors on some malformed shapes
        raise TemplateError(f"{path}: SAM cannot translate the template: {exc}") from exc
    translated.pop("Transform", None)
    return translated


def git_commit(directory: Path) -> str:
    """The full commit hash checked out in ``directory``, or "" when it is not a git work tree: the
    ``GitCommit`` parameter's value locally, as the deploy workflow passes github.sha."""
    try:
        done = subprocess.run(
            ["git", "-C", str(directory), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    commit = done.stdout.strip()
    return commit if done.returncode == 0 and re.fullmatch(r"[0-9a-f]{40}", commit) else ""
