from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from assistant_runtime.settings import ServiceSettings


class IngestionSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INGESTION_", extra="ignore")

    http_port: int = 8003
    blob_dir: str = Field(
        default=".local/blobs",
        validation_alias="BLOB_DIR",
        description="The blob store the gateway writes uploads to (a local directory).",
    )
    embedding_backend: Literal["local", "remote"] = "local"
    embedding_model: str = Field(
        default="all-MiniLM-L6-v2", description="With `remote`: the endpoint's model name."
    )
    embedding_base_url: str | None = Field(
        default=None, description="With `remote`: an OpenAI-compatible base URL."
    )
    embedding_api_key: SecretStr | None = None
    embedding_batch_size: int = Field(default=64, ge=1, le=1024)
    chunk_tokens: int = Field(default=200, ge=32, le=512, description="Tokens in a chunk, at most.")
    chunk_overlap: int = Field(default=40, ge=0, le=200)
    max_in_flight: int = Field(
        default=16,
        ge=1,
        le=64,
        description="Documents ingested at once (their chunks embedded together).",
    )
