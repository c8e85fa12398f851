"""`response_headers`: what a dependency sets reaches the answer, whatever the endpoint returns."""

from typing import Annotated

import httpx
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse

from assistant_runtime.http import RequestContextMiddleware, response_headers


async def counted(request: Request) -> None:
    response_headers(request)["RateLimit-Remaining"] = "7"


Counted = Annotated[None, Depends(counted)]


def app() -> FastAPI:
    served = FastAPI()
    served.add_middleware(RequestContextMiddleware)

    @served.get("/own")
    async def own_response(_: Counted) -> JSONResponse:
        return JSONResponse({"made": "here"}, status_code=202, headers={"Location": "/there"})

    @served.get("/built")
    async def built_response(_: Counted) -> dict[str, str]:
        return {"made": "by FastAPI"}

    @served.get("/plain")
    async def plain() -> dict[str, str]:
        return {"counted": "no"}

    return served


async def get(path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.get(path)


async def test_an_endpoints_own_response_carries_the_headers_set_while_serving_it() -> None:
    response = await get("/own")
    assert response.status_code == 202
    assert response.headers["RateLimit-Remaining"] == "7"
    assert response.headers["Location"] == "/there"
    assert response.headers["X-Request-ID"]


async def test_a_response_fastapi_builds_carries_them_once() -> None:
    response = await get("/built")
    assert response.headers.get_list("RateLimit-Remaining") == ["7"]


async def test_a_request_that_set_none_gets_none() -> None:
    response = await get("/plain")
    assert "RateLimit-Remaining" not in response.headers
