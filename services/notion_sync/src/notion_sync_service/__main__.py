from assistant_runtime.cli import run_cli
from notion_sync_service.service import create_app, definition
from notion_sync_service.settings import NotionSyncSettings

run_cli(definition, NotionSyncSettings, create_app)
