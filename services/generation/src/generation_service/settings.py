from pydantic_settings import SettingsConfigDict

from assistant_runtime.settings import ServiceSettings


class GenerationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GENERATION_", extra="ignore")

    http_port: int = 8001
