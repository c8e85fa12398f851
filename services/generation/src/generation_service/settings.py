from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import SettingsConfigDict

from assistant_runtime.settings import ServiceSettings


class GenerationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GENERATION_", extra="ignore")

    http_port: int = 8001
    # Server-level provider keys; a user's own credential takes precedence.
    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("GENERATION_OPENAI_API_KEY", "OPENAI_API_KEY")
    )
    anthropic_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("GENERATION_ANTHROPIC_API_KEY", "ANTHROPIC_API_KEY"),
    )
    deepseek_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("GENERATION_DEEPSEEK_API_KEY", "DEEPSEEK_API_KEY"),
    )
    provider_keys: dict[str, SecretStr] = Field(
        default_factory=dict,
        description='Keys of other registered providers, e.g. {"ollama": "..."}.',
    )
    max_in_flight: int = Field(default=256, ge=1, le=10_000, description="Concurrent calls.")
    provider_retries: int = Field(
        default=2, ge=0, le=10, description="Retries of a call before its first token."
    )
    connect_timeout_s: float = Field(default=10.0, gt=0)
    first_token_timeout_s: float = Field(default=60.0, gt=0)
    total_timeout_s: float = Field(default=600.0, gt=0)
    breaker_failures: int = Field(
        default=5, ge=1, description="Consecutive failures that open a provider's circuit."
    )
    breaker_cooldown_s: float = Field(default=30.0, ge=0)
    stream_first_window_ms: float = Field(
        default=50.0,
        ge=0,
        description="After the first delta (sent at once), deltas arriving within this window "
        "travel together; the window doubles with each send.",
    )
    stream_longest_window_ms: float = Field(
        default=250.0, ge=0, description="The longest the window grows to."
    )
    heartbeat_s: float = Field(default=2.0, gt=0)
    # How long a job that has its answer waits for the database to store it (an outage, a
    # restart) before giving the request back to the retry topic, which answers it again.
    conclude_patience_s: float = Field(default=60.0, ge=0)
    retrieval_timeout_s: float = Field(
        default=10.0, gt=0, le=120, description="How long `rag` waits for the document search."
    )
    mock_token_delay_ms: float = Field(
        default=20.0, ge=0, description="Pause between the mock provider's tokens."
    )

    def server_key(self, provider: str) -> str | None:
        named = {
            "openai": self.openai_api_key,
            "anthropic": self.anthropic_api_key,
            "deepseek": self.deepseek_api_key,
        }
        key = named.get(provider) or self.provider_keys.get(provider)
        return key.get_secret_value() if key else None
