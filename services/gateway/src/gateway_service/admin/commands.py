"""Operator commands of the gateway.

    python -m gateway_service make-admin <username or email>

The first administrator of a fresh system: an account registered through the API is made an
administrator by someone with access to the database's settings (`make admin LOGIN=...` under
`make run`). Later ones are made by an administrator through `PATCH /v1/admin/users/{id}`.
"""

import argparse
import asyncio

from assistant_db import create_engine, session_factory
from assistant_runtime.cli import Command
from gateway_service.accounts.repository import Users
from gateway_service.settings import GatewaySettings


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("login", help="the account's username or email")


def make_admin(settings: GatewaySettings, args: argparse.Namespace) -> None:
    async def promoted() -> str | None:
        engine = create_engine(settings.database_url, pool_size=1)
        try:
            async with session_factory(engine)() as session, session.begin():
                users = Users(session)
                user = await users.by_login(args.login)
                if user is None:
                    return None
                await users.update_profile(user.id, {"is_admin": True})
                return f"{user.username} ({user.email}, {user.id}) is an administrator now"
        finally:
            await engine.dispose()

    done = asyncio.run(promoted())
    if done is None:
        raise SystemExit(f"make-admin: no account has the username or email {args.login!r}")
    print(done)


COMMANDS = (
    Command("make-admin", "make an existing account an administrator", _arguments, make_admin),
)
