from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from assistant_blobs import BlobSettings
from assistant_runtime.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    http_port: int = 8000
    db_pool_size: int = Field(
        default=8,
        ge=1,
        le=500,
        description="Database connections in each of this process's pools. A request holds one "
        "for a statement at a time: at 1,000 requests a second a handful are busy, and 20 per "
        "worker spread the same work over more server processes for an eighth more of the "
        "database's CPU and twice the p99.",
    )
    outbox_min_cycle_ms: float = Field(
        default=20.0,
        ge=0,
        le=1000,
        description="The least time between two claims of the gateway's outbox relay. Its "
        "events start work that takes seconds (a generation, a document, a Notion save), so "
        "they can wait up to 20 ms to go out together: at 300 requests a second, against 5 ms, "
        "the workers used a fifth less CPU and PostgreSQL a third less.",
    )
    jwt_secret: SecretStr | None = Field(
        default=None,
        description="Signs access tokens; at least 32 characters, the same on every gateway "
        "instance. Unset: a random one per process (tokens die with it).",
    )
    bootstrap_admin_email: str | None = Field(
        default=None,
        description="The account registered with this email becomes an administrator.",
    )
    max_body_bytes: int = Field(
        default=1024 * 1024, ge=1024, description="Largest JSON request body accepted."
    )
    max_upload_bytes: int = Field(
        default=200 * 1024 * 1024,
        ge=1024,
        description="Largest multipart upload body (all its files); each file is also held to "
        "its plan tier's limit.",
    )
    blobs: BlobSettings = Field(
        default_factory=BlobSettings, description="The blob store (`BLOB_*` variables)."
    )
    console_dir: Path = Field(
        default=Path("web/dist"),
        description="The built web console, served at `/` when it holds an `index.html` "
        "(`make run` builds it; relative paths are from the working directory).",
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        description="Origins a browser frontend may call from, e.g. "
        '["https://app.example.org"]; empty: no cross-origin access.',
    )
    catalog_ttl_s: float = Field(
        default=5.0,
        gt=0,
        le=3600,
        description="How long the model catalogue is kept in memory before it is read again "
        "from this service's projection of generation's announcements; an admin's change "
        "through this instance applies at once.",
    )
    access_token_minutes: int = Field(default=15, ge=1, le=24 * 60)
    refresh_token_days: int = Field(default=30, ge=1, le=365)

    @field_validator("jwt_secret")
    @classmethod
    def _long_enough(cls, secret: SecretStr | None) -> SecretStr | None:
        if secret is not None and len(secret.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters")
        return secret
