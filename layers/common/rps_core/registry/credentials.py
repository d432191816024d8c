"""The tracking server's credentials, from a Secrets Manager secret named by ``MLFLOW_CREDENTIALS_SECRET``
(template MlflowCredentialsSecret): JSON ``{"username", "password"}`` for MLflow's basic auth or
``{"token"}`` for a bearer token. Read at run time through Powertools' parameters utility (cached five
minutes in a warm function), handed to MLflow's client as the environment variables it reads, never logged.
"""

from __future__ import annotations

import os
from typing import Any

from rps_core.errors import ConfigurationError

CACHE_SECONDS = 300


def credential_variables(secret: Any, name: str) -> dict[str, str]:
    """MLflow's environment variables for the secret's value (a named error for any other shape)."""
    if isinstance(secret, dict) and isinstance(secret.get("token"), str) and secret["token"]:
        return {"MLFLOW_TRACKING_TOKEN": secret["token"]}
    if isinstance(secret, dict) and all(isinstance(secret.get(k), str) and secret[k] for k in ("username", "password")):
        return {"MLFLOW_TRACKING_USERNAME": secret["username"], "MLFLOW_TRACKING_PASSWORD": secret["password"]}
    keys = sorted(secret) if isinstance(secret, dict) else type(secret).__name__
    raise ConfigurationError(
        f"MLFLOW_CREDENTIALS_SECRET: secret {name!r} must be JSON with 'username' and 'password', or 'token' "
        f"(it has {keys})"
    )


def use_tracking_credentials(name: str) -> None:
    """Put the credentials of secret ``name`` where MLflow's client reads them (this process only)."""
    from aws_lambda_powertools.utilities.parameters import get_secret
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError, TransformParameterError

    try:
        secret = get_secret(name, transform="json", max_age=CACHE_SECONDS)
    except TransformParameterError:
        raise ConfigurationError(f"MLFLOW_CREDENTIALS_SECRET: secret {name!r} is not JSON") from None
    except GetParameterError as exc:  # the message names the secret and AWS's reason, not its value
        raise ConfigurationError(f"MLFLOW_CREDENTIALS_SECRET: cannot read secret {name!r}: {exc}") from None
    os.environ.update(credential_variables(secret, name))
