from assistant_runtime.cli import run_cli
from gateway_service.admin.commands import COMMANDS
from gateway_service.service import create_app, definition
from gateway_service.settings import GatewaySettings

run_cli(definition, GatewaySettings, create_app, extra=COMMANDS)
