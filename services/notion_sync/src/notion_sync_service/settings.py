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
