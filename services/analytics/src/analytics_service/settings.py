from pydantic import Field
from pydantic_settings import SettingsConfigDict

from assistant_runtime.settings import ServiceSettings


class AnalyticsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ANALYTICS_", extra="ignore")

    http_port: int = 8004
    # Usage is recorded a batch per statement: bigger batches, fewer round trips.
    consumer_batch_size: int = Field(default=2000, ge=1, le=10_000)
