from assistant_db.migrations import run_env
from ingestion_service.models import metadata

run_env(metadata)
