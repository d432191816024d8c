"""Errors of the local cloud. Each names the file (or port) and the problem, so a user can fix the input."""

from __future__ import annotations


class LocalCloudError(Exception):
    """Base error of the local cloud: the cloud cannot start, deploy or answer."""


class TemplateError(LocalCloudError):
    """template.yaml is malformed, or SAM's translator rejects it."""


class CodeUriError(LocalCloudError):
    """A function's CodeUri or a layer's ContentUri is not a directory."""


class AslError(LocalCloudError):
    """A state machine definition is not valid JSON, names an unknown state or leaves ``${...}`` unresolved."""


class EventFileError(LocalCloudError):
    """An event file is missing or is not JSON."""


class PortInUseError(LocalCloudError):
    """The requested port is already taken."""


class HostAddressError(LocalCloudError):
    """The ``--host`` address is not one this machine can listen on (no interface has it, or no such name)."""


class DeployError(LocalCloudError):
    """The stack could not be created or updated on the local cloud."""


class MlflowServerError(LocalCloudError):
    """The MLflow tracking server is missing or did not start."""


class StaleEnvVarsError(LocalCloudError):
    """An ``--env-vars`` file for ``sam local`` is missing, unreadable or differs from the running cloud."""


class NotRunningError(LocalCloudError):
    """No local cloud answers at the endpoints in ``.rps/endpoints.json``."""
