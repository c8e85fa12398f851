"""Writes generated content to Notion, one page per request, within Notion's limits."""

from assistant_runtime.cli import run_cli
from notion_sync_service.commands import COMMANDS
from notion_sync_service.service import create_app, definition
from notion_sync_service.settings import NotionSyncSettings

run_cli(definition, NotionSyncSettings, create_app, extra=COMMANDS)
