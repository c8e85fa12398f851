"""GET /v1/admin/users, PATCH /v1/admin/users/{id}: administrators only."""

import uuid
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from assistant_db.keyset import past
from gateway_service.accounts.plan_events import announce_plan
from gateway_service.accounts.repository import Users
from gateway_service.auth.refresh_tokens import revoke_all_sessions
from gateway_service.http.dependencies import AdminCaller, EventOutbox, Session
from gateway_service.http.error_docs import errors
from gateway_service.http.pagination import cursor_position, encode_cursor
from gateway_service.http.problems import Problem
from gateway_service.models import users

router = APIRouter(prefix="/v1/admin", tags=["administration"])


class UserSummary(BaseModel):
    id: uuid.UUID
    email: str
    username: str
    plan_tier: str
    is_admin: bool
    is_active: bool
    created_at: datetime


class UserPage(BaseModel):
    items: list[UserSummary]
    next_cursor: str | None


class UserChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plan_tier: Literal["solo", "team", "enterprise"] | None = None
    is_admin: bool | None = None
    is_active: bool | None = None


@router.get("/users", summary="Every user, oldest first, a page at a time")
async def list_users(
    _admin: AdminCaller,
    session: Session,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> UserPage:
    statement = select(users).order_by(users.c.created_at, users.c.id).limit(limit + 1)
    if cursor:
        statement = statement.where(
            past(users.c.created_at, users.c.id, cursor_position(cursor), descending=False)
        )
    rows = list(await session.execute(statement))
    page = rows[:limit]
    items = [UserSummary(**{f: getattr(r, f) for f in UserSummary.model_fields}) for r in page]
    more = len(rows) > limit
    return UserPage(
        items=items, next_cursor=encode_cursor(page[-1].created_at, page[-1].id) if more else None
    )


@router.patch(
    "/users/{user_id}",
    summary="Change a user's plan tier, admin flag or activity",
    responses=errors(409),
)
async def change_user(
    user_id: uuid.UUID,
    body: UserChange,
    admin: AdminCaller,
    session: Session,
    events: EventOutbox,
    request: Request,
) -> UserSummary:
    repository = Users(session)
    if await repository.get(user_id) is None:
        raise Problem(404, "not-found", "No such user", f"no user {user_id}")
    changes = body.model_dump(exclude_none=True)
    if user_id == admin.user_id and (
        changes.get("is_admin") is False or changes.get("is_active") is False
    ):
        raise Problem(
            409,
            "self-lockout",
            "Would lock you out",
            "an administrator cannot remove their own admin flag or deactivate "
            "themselves; ask another administrator",
        )
    if changes.get("is_active") is False:
        changes["deactivated_at"] = datetime.now(UTC)
        await revoke_all_sessions(session, user_id)
    elif changes.get("is_active"):
        changes["deactivated_at"] = None
    await repository.update_profile(user_id, changes)
    if body.plan_tier is not None:
        await announce_plan(events, session, user_id, body.plan_tier, request.state.request_id)
    await session.commit()
    row = await repository.get(user_id)
    assert row is not None
    return UserSummary(**{f: getattr(row, f) for f in UserSummary.model_fields})
