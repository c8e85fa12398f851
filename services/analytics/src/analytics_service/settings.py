from pydantic import Field
from pydantic_settings import SettingsConfigDict

from assistant_runtime.settings import ServiceSettings


class AnalyticsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ANALYTICS_", extra="ignore")

    http_port: int = 8004
    # Usage is recorded a batch per statement: bigger batches, fewer round trips.
    consumer_batch_size: int = Field(default=2000, ge=1, le=10_000)
    # Usage is keyed by user, so each consumer's partitions hold users of its own and their
    # batches never contend for the same ledger, rollup or budget rows: three at once overlap
    # one's Python work with another's transaction (measured: 1 → 12,200 events/s,
    # 2 → 15,900, 3 → 17,600, 4 → 16,900).
    consumers: int = Field(default=3, ge=1, le=16)
    # Each batch keeps thousands of decoded events alive: with Python's default thresholds the
    # collector re-scans them every 700 allocations (measured: 19,000-20,300 → 23,400-24,600
    # events/s). The gateway, whose objects die with each request, was slower with these.
    gc_thresholds: tuple[int, int, int] = (50_000, 20, 100)
