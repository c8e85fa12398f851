"""Contract for provider and Notion credentials; only ciphertext ever travels."""

from typing import Literal

from pydantic import Field

from assistant_schemas.common import ProviderName
from assistant_schemas.envelope import Contract, Envelope


class CredentialsUpdatedPayload(Contract):
    provider: ProviderName = Field(description="openai, anthropic, deepseek, notion, or a name.")
    action: Literal["set", "deleted"]
    ciphertext: str | None = Field(
        default=None, description="Fernet token of the secret; null when deleted."
    )
    fingerprint: str | None = Field(default=None, description="SHA-256 prefix of the secret.")
    base_url: str | None = Field(default=None, max_length=2000)


class CredentialsUpdatedV1(Envelope[CredentialsUpdatedPayload]):
    type: Literal["credentials.updated"] = "credentials.updated"
    version: Literal[1] = 1
