from assistant_db.migrations import run_env
from notion_sync_service.models import metadata

run_env(metadata)
