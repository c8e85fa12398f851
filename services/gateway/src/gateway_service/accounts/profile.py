"""A user's profile and settings as the API shows them, in one constant statement.

Read through the driver pool, not a SQLAlchemy session: `GET /v1/me` is what a frontend asks
on every page load, and opening, beginning and closing a session cost more than the query. The
endpoints that change an account read it here too, after their commit.
"""

import json
import uuid

from assistant_db import Statements
from gateway_service.accounts.schemas import Settings, User
from gateway_service.sql import statement

PROFILE = statement("profile")


async def profile(database: Statements, user_id: uuid.UUID) -> User:
    row = await database.fetchrow(PROFILE, user_id)
    assert row is not None, "the caller's account exists: it was found an instant ago"
    return User(
        id=row["id"],
        email=row["email"],
        username=row["username"],
        full_name=row["full_name"],
        plan_tier=row["plan_tier"],
        is_admin=row["is_admin"],
        is_active=row["is_active"],
        created_at=row["created_at"],
        settings=Settings(
            default_provider=row["default_provider"],
            default_model=row["default_model"],
            # As text, whatever JSON codec the connection has (the driver pool's has none).
            notion_config=json.loads(row["notion_config"]),
            ui_preferences=json.loads(row["ui_preferences"]),
        ),
    )
