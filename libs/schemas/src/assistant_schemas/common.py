"""Small value types shared by several domains' contracts."""

from typing import Annotated

from pydantic import Field, StringConstraints

from assistant_schemas.envelope import Contract

Identifier = Annotated[str, StringConstraints(min_length=1, max_length=200)]
ProviderName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]
ModelName = Annotated[str, StringConstraints(min_length=1, max_length=200)]
TokenCount = Annotated[int, Field(ge=0, le=100_000_000)]


class TokenUsage(Contract):
    input_tokens: TokenCount = 0
    output_tokens: TokenCount = 0
    cached_tokens: TokenCount = 0
    reasoning_tokens: TokenCount = 0
