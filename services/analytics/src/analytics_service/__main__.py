from analytics_service.commands import COMMANDS
from analytics_service.service import create_app, definition
from analytics_service.settings import AnalyticsSettings
from assistant_runtime.cli import run_cli

run_cli(definition, AnalyticsSettings, create_app, extra=COMMANDS)
