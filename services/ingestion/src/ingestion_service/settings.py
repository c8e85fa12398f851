from pydantic_settings import SettingsConfigDict

from assistant_runtime.settings import ServiceSettings


class IngestionSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INGESTION_", extra="ignore")

    http_port: int = 8003
