from assistant_db.migrations import run_env
from generation_service.models import metadata

run_env(metadata)
