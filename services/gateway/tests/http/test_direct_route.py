"""`DirectRoute`: its endpoint gets the validated body and the request; a bad body is a 422
naming the field and the rule, as FastAPI's own would be; its OpenAPI is FastAPI's."""

from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from gateway_service.http.direct_route import DirectRoute
from gateway_service.http.problems import install_problem_handlers


class Order(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item: str = Field(min_length=1)
    quantity: int = 1


def app() -> FastAPI:
    served = FastAPI()
    install_problem_handlers(served)
    router = APIRouter(prefix="/orders", route_class=DirectRoute)

    @router.post("", status_code=202)
    async def place(body: Order, request: Request) -> Response:
        echoed = f"{body.item}x{body.quantity} from {request.headers['x-client']}"
        return Response(echoed, 202)

    served.include_router(router)
    return served


async def post(content: bytes, content_type: str = "application/json") -> httpx.Response:
    transport = httpx.ASGITransport(app=app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        headers = {"content-type": content_type, "x-client": "probe"}
        return await client.post("/orders", content=content, headers=headers)


async def test_the_endpoint_gets_the_validated_body_and_the_request() -> None:
    response = await post(b'{"item": "tea", "quantity": 3}')
    assert response.status_code == 202
    assert response.text == "teax3 from probe"


async def test_a_json_suffixed_type_with_a_charset_is_json() -> None:
    response = await post(b'{"item": "tea"}', "application/merge-patch+json; charset=utf-8")
    assert response.text == "teax1 from probe"


@pytest.mark.parametrize(
    ("content", "content_type", "field", "rule"),
    [
        (b'{"item": "tea", "quantity": "many"}', "application/json", "quantity", "int_parsing"),
        (b'{"item": ""}', "application/json", "item", "string_too_short"),
        (b'{"item": "tea", "colour": "red"}', "application/json", "colour", "extra_forbidden"),
        (b'{"quantity": 2}', "application/json", "item", "missing"),
        (b'{"item": "tea"', "application/json", "body", "json_invalid"),
        (b"", "application/json", "body", "missing"),
        (b'{"item": "tea"}', "text/plain", "body", "content_type"),
    ],
)
async def test_a_bad_body_is_a_problem_naming_the_field_and_the_rule(
    content: bytes, content_type: str, field: str, rule: str
) -> None:
    response = await post(content, content_type)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    [error] = response.json()["errors"]
    assert (error["field"], error["rule"]) == (field, rule)


def test_the_openapi_operation_documents_the_body_model() -> None:
    operation: dict[str, Any] = app().openapi()["paths"]["/orders"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/Order"}


def test_an_endpoint_of_another_shape_is_refused_when_routed() -> None:
    router = APIRouter(route_class=DirectRoute)

    async def with_query(body: Order, request: Request, page: int) -> Response:
        return Response()

    with pytest.raises(TypeError, match="DirectRoute endpoint"):
        router.add_api_route("/x", with_query, methods=["POST"])
