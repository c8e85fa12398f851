"""Small value types shared by several domains' contracts."""

from decimal import Decimal
from typing import Annotated

from pydantic import Field, PlainSerializer, StringConstraints

from assistant_schemas.envelope import Contract

Identifier = Annotated[str, StringConstraints(min_length=1, max_length=200)]
ProviderName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]
ModelName = Annotated[str, StringConstraints(min_length=1, max_length=200)]
TokenCount = Annotated[int, Field(ge=0, le=100_000_000)]


def plain_decimal(value: Decimal) -> str:
    """`0E-8` as `0`, `1.50000000` as `1.5`: plain notation, no trailing zeros."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


# US dollars, exact, written in JSON as a string in plain decimal notation.
Usd = Annotated[Decimal, PlainSerializer(plain_decimal, return_type=str, when_used="json")]


class TokenUsage(Contract):
    input_tokens: TokenCount = 0
    output_tokens: TokenCount = 0
    cached_tokens: TokenCount = 0
    reasoning_tokens: TokenCount = 0
