from pydantic_settings import SettingsConfigDict

from assistant_runtime.settings import ServiceSettings


class NotionSyncSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTION_SYNC_", extra="ignore")

    http_port: int = 8002
