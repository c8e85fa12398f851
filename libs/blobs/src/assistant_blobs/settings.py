from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class BlobSettings(BaseSettings):
    """Where uploads' bytes are kept (`BLOB_*`), the same for the gateway, which writes, and
    ingestion, which reads and deletes. S3 credentials come the usual AWS way
    (`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, a profile, or an instance role)."""

    model_config = SettingsConfigDict(env_prefix="BLOB_", extra="ignore")

    dir: str = Field(default=".local/blobs", description="The local directory, without S3.")
    s3_bucket: str | None = Field(
        default=None, description="An S3-compatible bucket to keep blobs in, instead of `dir`."
    )
    s3_endpoint_url: str | None = Field(
        default=None, description="The S3-compatible server (MinIO, Ceph, R2…); unset: AWS."
    )
    s3_region: str | None = None
    s3_prefix: str = Field(default="", description="Put before every object key.")
