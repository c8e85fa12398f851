"""Administrators edit the model catalogue: register a provider (any OpenAI-compatible server
by name and base URL), add or change a model, its limits and prices."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from assistant_schemas.catalog import (
    ApiStyle,
    CatalogQueryPayload,
    CatalogResultPayload,
    ModelInfo,
    ProviderInfo,
)
from assistant_schemas.common import ProviderName
from gateway_service.generations.service import catalog_of
from gateway_service.http.dependencies import AdminCaller
from gateway_service.http.queries import Replies

router = APIRouter(prefix="/v1/admin/catalog", tags=["admin"])


class ProviderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str = Field(min_length=1, max_length=200)
    api_style: ApiStyle = "openai"
    base_url: HttpUrl | None = None
    requires_key: bool = True
    enabled: bool = True


class ModelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    context_window: int = Field(ge=256, le=100_000_000)
    max_output_tokens: int = Field(ge=1, le=10_000_000)
    input_price: Annotated[Decimal, Field(ge=0, le=10_000)]
    output_price: Annotated[Decimal, Field(ge=0, le=10_000)]
    cached_input_price: Annotated[Decimal, Field(ge=0, le=10_000)] | None = None
    enabled: bool = True


@router.get("", summary="The whole catalogue, disabled entries included")
async def get_catalog(
    _admin: AdminCaller, request: Request, replies: Replies
) -> CatalogResultPayload:
    return await catalog_of(request).change(
        replies, CatalogQueryPayload(action="list"), request.state.request_id
    )


@router.put("/providers/{name}", summary="Register or change a provider")
async def put_provider(
    name: ProviderName, body: ProviderIn, _admin: AdminCaller, request: Request, replies: Replies
) -> CatalogResultPayload:
    provider = ProviderInfo(name=name, **body.model_dump())
    payload = CatalogQueryPayload(action="put_provider", provider=provider)
    return await catalog_of(request).change(replies, payload, request.state.request_id)


@router.put("/models/{provider}/{model:path}", summary="Add or change a model")
async def put_model(
    provider: ProviderName,
    model: str,
    body: ModelIn,
    _admin: AdminCaller,
    request: Request,
    replies: Replies,
) -> CatalogResultPayload:
    info = ModelInfo(provider=provider, model=model, **body.model_dump())
    payload = CatalogQueryPayload(action="put_model", model=info)
    return await catalog_of(request).change(replies, payload, request.state.request_id)
