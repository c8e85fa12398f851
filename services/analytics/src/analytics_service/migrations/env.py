from analytics_service.models import metadata
from assistant_db.migrations import run_env

run_env(metadata)
