"""Parses, chunks and embeds documents into pgvector, and serves search."""

from assistant_runtime.cli import run_cli
from ingestion_service.commands import COMMANDS
from ingestion_service.service import create_app, definition
from ingestion_service.settings import IngestionSettings

run_cli(definition, IngestionSettings, create_app, extra=COMMANDS)
