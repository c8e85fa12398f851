from pydantic_settings import SettingsConfigDict

from assistant_runtime.settings import ServiceSettings


class AnalyticsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ANALYTICS_", extra="ignore")

    http_port: int = 8004
