from assistant_db.migrations import run_env
from gateway_service.models import metadata

run_env(metadata)
