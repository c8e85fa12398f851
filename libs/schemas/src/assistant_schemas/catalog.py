"""The model catalogue: providers, their models, limits and prices.

The generation service owns the catalogue and announces the whole of it (`catalog.changed`) on
every change and when it starts; the gateway keeps the latest announced to validate requests
and list models, so it accepts work while generation is down. Administrators change it
through the gateway with `put_provider` / `put_model` (request/reply).
"""

from typing import Literal

from pydantic import Field, HttpUrl

from assistant_schemas.common import ModelName, ProviderName, Usd
from assistant_schemas.envelope import Contract, Envelope

ApiStyle = Literal["openai", "anthropic", "mock"]
Price = Usd  # US dollars per million tokens
DEFAULT_ANSWER_TOKENS = 4096


class ProviderInfo(Contract):
    name: ProviderName
    label: str = Field(min_length=1, max_length=200)
    api_style: ApiStyle = Field(
        description="Wire protocol: OpenAI Chat Completions, Anthropic Messages, or the mock."
    )
    base_url: HttpUrl | None = Field(
        default=None, description="Server to call; null uses the SDK's default endpoint."
    )
    requires_key: bool = True
    enabled: bool = True


class ModelInfo(Contract):
    provider: ProviderName
    model: ModelName
    context_window: int = Field(ge=256, le=100_000_000)
    max_output_tokens: int = Field(ge=1, le=10_000_000)
    input_price: Price = Field(ge=0, le=10_000, description="USD per million input tokens.")
    output_price: Price = Field(ge=0, le=10_000, description="USD per million output tokens.")
    cached_input_price: Price | None = Field(default=None, ge=0, le=10_000)
    enabled: bool = True

    def answer_tokens(self, requested: int | None) -> int:
        """Room kept for the answer: what was asked (else 4096), within the model's limit."""
        return min(requested or DEFAULT_ANSWER_TOKENS, self.max_output_tokens)


class CatalogQueryPayload(Contract):
    action: Literal["list", "put_provider", "put_model"]
    provider: ProviderInfo | None = None
    model: ModelInfo | None = None


class CatalogResultPayload(Contract):
    providers: list[ProviderInfo]
    models: list[ModelInfo]
    version: int = Field(
        default=0, ge=0, description="Grows with every change; a reader keeps the highest."
    )


class CatalogQueryV1(Envelope[CatalogQueryPayload]):
    type: Literal["catalog.query"] = "catalog.query"
    version: Literal[1] = 1


class CatalogResultV1(Envelope[CatalogResultPayload]):
    type: Literal["catalog.result"] = "catalog.result"
    version: Literal[1] = 1


class CatalogChangedV1(Envelope[CatalogResultPayload]):
    """The whole catalogue as of `payload.version`."""

    type: Literal["catalog.changed"] = "catalog.changed"
    version: Literal[1] = 1
