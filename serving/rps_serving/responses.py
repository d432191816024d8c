"""Response bodies serialised by pydantic-core in one call, without FastAPI's response handling.

A route that returns a model has FastAPI validate it against the response model again, turn it into
Python objects and ``json.dumps`` them. A route that returns a ``Response`` skips all of that, so the
routes build plain dicts with exactly the response model's fields (``fields``), and the route decorators
name the models (``response_model``) for the OpenAPI document. The schemathesis test checks every
answer against those schemas.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic_core import to_json
from starlette.responses import Response


class JSONBytes(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return content if isinstance(content, bytes) else to_json(content)


def fields(model: type[BaseModel], **values: Any) -> dict[str, Any]:
    """``values`` as a response body of ``model``: every field, in the model's order; a missing or an
    unknown field is a programming error (KeyError), caught by the tests, not a malformed answer."""
    unknown = values.keys() - model.model_fields.keys()
    if unknown:
        raise KeyError(f"{model.__name__} has no field {', '.join(sorted(unknown))}")
    return {name: values[name] for name in model.model_fields}
