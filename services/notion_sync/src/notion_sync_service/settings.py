from pydantic import Field
from pydantic_settings import SettingsConfigDict

from assistant_runtime.settings import ServiceSettings


class NotionSyncSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTION_SYNC_", extra="ignore")

    http_port: int = 8002
    api_base_url: str = Field(
        default="https://api.notion.com",
        description="Notion's API; a local server speaking it in tests and benchmarks.",
    )
    api_timeout_s: float = Field(default=20.0, gt=0, le=300)
    rate_per_s: float = Field(
        default=3.0,
        gt=0,
        le=1000,
        description="Notion calls per second per integration token (Notion allows 3 on average).",
    )
    max_in_flight: int = Field(
        default=16,
        ge=1,
        le=64,
        description="Saves written at once; each holds a database connection.",
    )
    retry_max_attempts: int = Field(
        default=8, ge=1, le=20, description="Tries of a save before it is failed as retryable."
    )
