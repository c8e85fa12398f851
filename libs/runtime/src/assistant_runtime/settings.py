"""Settings read from the environment.

The infrastructure every service shares has unprefixed names (`DATABASE_URL`,
`KAFKA_BOOTSTRAP_SERVERS`), the same in `make run`, docker-compose and Kubernetes; everything
else is prefixed per service (`ANALYTICS_HTTP_PORT`, ...). Secrets come only from the
environment and are never logged.
"""

import os
import uuid

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from assistant_messaging.kafka.admin import DEFAULT_BOOTSTRAP_SERVERS
from assistant_runtime.credentials_cipher import CredentialCipher
from assistant_runtime.outbound import OutboundPolicy, networks_setting


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    database_url: str = Field(
        default="postgresql://postgres@127.0.0.1:15432/assistant",
        validation_alias="DATABASE_URL",
    )
    kafka_bootstrap_servers: str = Field(
        default=DEFAULT_BOOTSTRAP_SERVERS, validation_alias="KAFKA_BOOTSTRAP_SERVERS"
    )
    credentials_keys: SecretStr | None = Field(
        default=None,
        validation_alias="CREDENTIALS_KEYS",
        description="Fernet keys, newest first, for provider and Notion credentials.",
    )
    outbound_allowed_networks: str = Field(
        default="",
        validation_alias="OUTBOUND_ALLOWED_NETWORKS",
        description="Comma-separated networks (CIDR) that calls to URLs users can set (a "
        "provider's base URL) may reach although not public: internal model servers. Empty: "
        "only public addresses.",
    )
    outbound_allow_http: bool = Field(
        default=False,
        validation_alias="OUTBOUND_ALLOW_HTTP",
        description="Allow plain http:// for such URLs (https only by default).",
    )
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=0, le=65535)
    http_workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Processes serving the HTTP API on one port, each a whole instance of the "
        "service (its own consumers, outbox relay and reply partition). One process uses one "
        "core: the gateway needs more than one to use a machine's cores.",
    )
    log_level: str = Field(
        # `<S>_LOG_LEVEL` for one service; else `LOG_LEVEL`, shared like DATABASE_URL.
        default_factory=lambda: os.environ.get("LOG_LEVEL", "INFO"),
        description="DEBUG, INFO, WARNING or ERROR: `<S>_LOG_LEVEL`, else `LOG_LEVEL`.",
    )
    instance_id: str = Field(
        default_factory=lambda: uuid.uuid4().hex[:8],
        description="Names this process in logs and Kafka client ids; random if unset.",
    )
    db_pool_size: int = Field(
        default=20,
        ge=1,
        le=500,
        description="Database connections this process keeps open in each of its pools (the "
        "SQLAlchemy pool, and the plain driver pool of hot paths where a service uses one); "
        "when all are busy, work waits for one. None is opened beyond them: a connection "
        "opened per transaction costs more CPU to set up than the work of a request or a "
        "streamed generation.",
    )
    # Retry and dead letter for consumed events.
    retry_max_attempts: int = Field(default=4, ge=1, le=20)
    retry_base_delay_s: float = Field(default=1.0, ge=0)
    retry_max_delay_s: float = Field(default=60.0, ge=0)
    consumer_batch_size: int = Field(default=500, ge=1, le=10_000)
    consumers: int = Field(
        default=1,
        ge=1,
        le=16,
        description="Batched consumers of the service's events in this process. Each owns its "
        "own partitions, so batches of different partitions are handled at once.",
    )
    outbox_batch_size: int = Field(default=500, ge=1, le=10_000)
    outbox_min_cycle_ms: float = Field(
        default=5.0,
        ge=0,
        le=1000,
        description="The least time between two claims of the outbox relay: events committed "
        "meanwhile wait and go out together in the next cycle. After a quieter spell a commit "
        "goes out at once; a full batch is followed by the next without waiting.",
    )
    shutdown_grace_s: float = Field(default=15.0, ge=0)
    gc_thresholds: tuple[int, int, int] = Field(
        default=(700, 10, 10),
        description="The garbage collector's thresholds (gc.set_threshold): allocations before "
        "a young collection, then young and middle collections before an older one. Python's "
        "defaults suit request handling; a consumer holding thousands of events per batch "
        "does better with higher ones.",
    )

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError(f"{value!r} is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator("outbound_allowed_networks")
    @classmethod
    def _networks(cls, value: str) -> str:
        return ",".join(networks_setting(value))

    def outbound_policy(self) -> OutboundPolicy:
        return OutboundPolicy(self.outbound_allowed_networks.split(","), self.outbound_allow_http)

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError("not a URL like postgresql://user:password@host:5432/db") from None
        if not url.drivername.startswith("postgres"):
            raise ValueError(f"scheme {url.drivername!r} is not postgresql://")
        if not url.database:
            raise ValueError("names no database (postgresql://host:5432/<database>)")
        return value

    @field_validator("credentials_keys")
    @classmethod
    def _fernet_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            CredentialCipher(value.get_secret_value())  # raises a ValueError naming the rule
        return value

    @field_validator("kafka_bootstrap_servers")
    @classmethod
    def _host_ports(cls, value: str) -> str:
        for server in value.split(","):
            host, _, port = server.strip().rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(f"{server!r} is not host:port")
        return value
