from assistant_runtime.cli import run_cli
from generation_service.service import create_app, definition
from generation_service.settings import GenerationSettings

run_cli(definition, GenerationSettings, create_app)
