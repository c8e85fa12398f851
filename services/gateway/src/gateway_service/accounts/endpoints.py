"""GET/PATCH /v1/me, POST /v1/me/password, POST /v1/me/deactivate."""

from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy import Row
from sqlalchemy.exc import IntegrityError

from assistant_schemas.accounts import AccountDeletedPayload, AccountDeletedV1
from gateway_service.accounts import passwords
from gateway_service.accounts.profile import profile
from gateway_service.accounts.repository import Users
from gateway_service.accounts.schemas import (
    AccountDeletion,
    PasswordChange,
    ProfilePatch,
    User,
)
from gateway_service.auth.callers import Caller
from gateway_service.auth.refresh_tokens import revoke_all_sessions
from gateway_service.http.dependencies import AccountCaller, Database, EventOutbox, Session
from gateway_service.http.error_docs import errors
from gateway_service.http.events import caller_event
from gateway_service.http.problems import Problem

router = APIRouter(prefix="/v1/me", tags=["accounts"])


async def confirmed_user(users: Users, caller: Caller, password: str, field: str) -> Row[Any]:
    """The caller's row, once `password` (sent as `field`) proves it is really them."""
    user = await users.get(caller.user_id)
    assert user is not None
    if not passwords.verify_password(user.password_hash, password):
        raise Problem(403, "wrong-password", "Wrong password", f"{field} does not match")
    return user


def username_taken() -> Problem:
    return Problem(
        409, "account-exists", "Account exists", "username already registered", fields=["username"]
    )


@router.get("", summary="The caller's profile and settings")
async def me(caller: AccountCaller, database: Database) -> User:
    return await profile(database, caller.user_id)


@router.patch("", summary="Change the caller's profile or settings", responses=errors(409))
async def update_me(
    body: ProfilePatch, caller: AccountCaller, session: Session, database: Database
) -> User:
    users = Users(session)
    changes = body.model_dump(exclude_unset=True, exclude={"settings"})
    username = changes.get("username", "")
    if username is None:
        raise Problem(
            422,
            "validation-error",
            "Invalid request",
            "username: cannot be null",
            errors=[{"field": "username", "rule": "not_null", "message": "cannot be null"}],
        )
    if username and await users.username_taken_by_another(username, caller.user_id):
        raise username_taken()
    await users.update_profile(caller.user_id, changes)
    if body.settings is not None:
        await users.update_settings(caller.user_id, body.settings.model_dump(exclude_unset=True))
    try:
        await session.commit()
    except IntegrityError:  # a concurrent rename won the race
        raise username_taken() from None
    return await profile(database, caller.user_id)


@router.post("/password", status_code=204, summary="Change the password; logs out everywhere")
async def change_password(
    body: PasswordChange, caller: AccountCaller, session: Session
) -> Response:
    users = Users(session)
    user = await confirmed_user(users, caller, body.current_password, "current_password")
    reason = passwords.weakness(body.new_password, username=user.username, email=user.email)
    if reason:
        raise Problem(
            422,
            "validation-error",
            "Invalid request",
            f"new_password: {reason}",
            errors=[{"field": "new_password", "rule": "password_strength", "message": reason}],
        )
    await users.set_password_hash(caller.user_id, passwords.hash_password(body.new_password))
    await revoke_all_sessions(session, caller.user_id)
    await session.commit()
    return Response(status_code=204)


@router.post(
    "/deactivate", status_code=204, summary="Deactivate the caller's account (its history is kept)"
)
async def deactivate(caller: AccountCaller, session: Session) -> Response:
    await Users(session).deactivate(caller.user_id)
    await revoke_all_sessions(session, caller.user_id)
    await session.commit()
    return Response(status_code=204)


@router.delete(
    "",
    status_code=204,
    summary="Delete the caller's account; every service removes that user's data",
)
async def delete_me(
    body: AccountDeletion,
    caller: AccountCaller,
    session: Session,
    events: EventOutbox,
    request: Request,
) -> Response:
    users = Users(session)
    await confirmed_user(users, caller, body.password, "password")
    await users.delete(caller.user_id)
    await events.add(
        session,
        caller_event(
            AccountDeletedV1, AccountDeletedPayload(reason="user_request"), caller, request
        ),
    )
    await session.commit()
    return Response(status_code=204)
