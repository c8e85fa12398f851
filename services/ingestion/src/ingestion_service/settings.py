import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from assistant_blobs import BlobSettings
from assistant_runtime.settings import ServiceSettings


class IngestionSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INGESTION_", extra="ignore")

    http_port: int = 8003
    blobs: BlobSettings = Field(
        default_factory=BlobSettings, description="The blob store (`BLOB_*` variables)."
    )
    embedding_backend: Literal["local", "remote"] = "local"
    embedding_model: str = Field(
        default="all-MiniLM-L6-v2", description="With `remote`: the endpoint's model name."
    )
    embedding_base_url: str | None = Field(
        default=None, description="With `remote`: an OpenAI-compatible base URL."
    )
    embedding_api_key: SecretStr | None = None
    embedding_dimensions: int | None = Field(
        default=None,
        ge=1,
        le=16000,
        description="With `remote`: the dimensions to ask for; unset, the model's own.",
    )
    index_catch_up_s: float = Field(
        default=30.0,
        gt=0,
        description="How often the model's index takes in chunks other models' processes wrote.",
    )
    model_cache_dir: Path = Field(
        default_factory=lambda: (
            Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "notion-assistant"
        ),
        description="Where the local model's ONNX graph (search queries) is kept once exported.",
    )
    dictionary_dir: Path = Field(
        default=Path("/usr/share/dictd"),
        description="Where FreeDict's Portuguese-English dictionaries are (Debian's "
        "dict-freedict-por-eng and dict-freedict-eng-por): Portuguese questions are searched "
        "with their English words too. Without them, only by the words they share.",
    )
    embedding_batch_size: int = Field(default=64, ge=1, le=1024)
    embedding_workers: int = Field(
        default=2,
        ge=1,
        le=16,
        description="Batches embedded at once: copies of the local model, each on its share of "
        "the cores, or concurrent requests to a remote endpoint.",
    )
    chunk_tokens: int = Field(default=200, ge=32, le=512, description="Tokens in a chunk, at most.")
    chunk_overlap: int = Field(default=40, ge=0, le=200)
    # As measured (docs/benchmarks.md): documents in flight keep their chunks and vectors alive.
    gc_thresholds: tuple[int, int, int] = (50_000, 20, 100)
    max_in_flight: int = Field(
        default=16,
        ge=1,
        le=64,
        description="Documents ingested at once (their chunks embedded together).",
    )
