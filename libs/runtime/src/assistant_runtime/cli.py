"""The command line every service has: `serve`, `migrate`, `downgrade`, plus its own.

python -m analytics_service serve
python -m analytics_service migrate            # to head
python -m analytics_service downgrade base
python -m analytics_service reprice --start 2026-11-01 --end 2026-11-30   # a service's own
"""

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import FastAPI
from pydantic import ValidationError

from assistant_db import migrations
from assistant_runtime.definition import ServiceDefinition
from assistant_runtime.logging import configure_logging
from assistant_runtime.serving import serve
from assistant_runtime.settings import ServiceSettings

SettingsT = TypeVar("SettingsT", bound=ServiceSettings)


def load_settings(settings_class: type[SettingsT]) -> SettingsT:
    """Reads settings; a bad value exits with one line naming the variable and the rule."""
    try:
        return settings_class()
    except ValidationError as error:
        prefix = settings_class.model_config.get("env_prefix", "")
        for problem in error.errors(include_url=False):
            field = str(problem["loc"][0]) if problem["loc"] else "?"
            variable = field.upper() if field.isupper() else f"{prefix}{field}".upper()
            print(f"configuration error: {variable}: {problem['msg']}", file=sys.stderr)
        raise SystemExit(2) from None


@dataclass(frozen=True)
class Command:
    """A service's own maintenance command: its arguments, and what it does with them."""

    name: str
    help: str
    arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[Any, argparse.Namespace], None]  # (the service's settings, the arguments)


def run_cli(
    definition: ServiceDefinition,
    settings_class: type[SettingsT],
    create_app: Callable[[SettingsT], FastAPI],
    argv: list[str] | None = None,
    extra: Sequence[Command] = (),
) -> None:
    parser = argparse.ArgumentParser(prog=f"python -m {definition.name}_service")
    commands = parser.add_subparsers(dest="command", required=True)
    for command in extra:
        command.arguments(commands.add_parser(command.name, help=command.help))
    commands.add_parser("serve", help="run the service")
    up = commands.add_parser("migrate", help="apply this service's migrations")
    up.add_argument("revision", nargs="?", default="head")
    down = commands.add_parser("downgrade", help="revert this service's migrations")
    down.add_argument(
        "revision", help="the revision to return to; 'base' removes every table of the service"
    )
    down.add_argument(
        "--yes", action="store_true", help="confirm: the reverted migrations' data is deleted"
    )
    args = parser.parse_args(argv)

    settings = load_settings(settings_class)
    configure_logging(definition.name, settings.log_level, settings.instance_id)
    if args.command == "serve":
        serve(definition.name, create_app, settings)
    elif own := {command.name: command for command in extra}.get(args.command):
        own.run(settings, args)
    elif args.command == "migrate":
        migrations.upgrade(
            definition.migrations_dir, settings.database_url, definition.schema, args.revision
        )
    elif not args.yes:
        print(
            f"downgrade to {args.revision} deletes the tables and data of every later migration "
            f"of {definition.name}; run it again with --yes to confirm",
            file=sys.stderr,
        )
        raise SystemExit(2)
    else:
        migrations.downgrade(
            definition.migrations_dir, settings.database_url, definition.schema, args.revision
        )
