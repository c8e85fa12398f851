"""A route whose endpoint is called with its JSON body and the request, nothing resolved.

For every request, FastAPI's handler resolves the endpoint's parameters through its dependency
solver (path, query, header and cookie parameters included, even for an endpoint that has none
of them), then reads and validates the body. On the publishing path that per-request machinery
cost as much CPU as the endpoint's own work. `DirectRoute` keeps all FastAPI derives from the
endpoint's signature — the OpenAPI operation and its body's schema — and replaces only the
per-request part: the body is read and validated as the model says (a 422 naming the field and
the rule, as FastAPI's would), then the endpoint is awaited.

It serves endpoints written as `async def endpoint(body: SomeModel, request: Request) ->
Response` and refuses any other signature when the route is made.
"""

import inspect
from collections.abc import Callable, Coroutine
from typing import Any, get_type_hints

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError


class DirectRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        model = body_model(self.endpoint)
        endpoint = self.endpoint

        async def handle(request: Request) -> Response:
            body = await request.body()
            if not body:
                raise invalid("missing", "a JSON body is required")
            if not is_json(request.headers.get("content-type", "")):
                raise invalid("content_type", "send the body as JSON (`application/json`)")
            try:
                parsed = model.model_validate_json(body)
            except ValidationError as error:
                raise RequestValidationError(
                    [{**item, "loc": ("body", *item["loc"])} for item in error.errors()]
                ) from None
            response: Response = await endpoint(parsed, request)
            return response

        return handle


def body_model(endpoint: Callable[..., Any]) -> type[BaseModel]:
    """The model of `endpoint(body: Model, request: Request) -> Response`; TypeError for any
    other signature."""
    hints = get_type_hints(endpoint)
    names = list(inspect.signature(endpoint).parameters)
    model = hints.get(names[0]) if names else None
    if (
        len(names) != 2
        or not (isinstance(model, type) and issubclass(model, BaseModel))
        or hints.get(names[1]) is not Request
        or not (isinstance(hints.get("return"), type) and issubclass(hints["return"], Response))
    ):
        raise TypeError(
            f"{endpoint.__name__}: a DirectRoute endpoint is `(body: Model, request: Request) "
            "-> Response`"
        )
    return model


def is_json(content_type: str) -> bool:
    """`application/json` or `application/…+json`, parameters (a charset) aside."""
    media_type = content_type.partition(";")[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


def invalid(rule: str, message: str) -> RequestValidationError:
    return RequestValidationError([{"type": rule, "loc": ("body",), "msg": message}])
