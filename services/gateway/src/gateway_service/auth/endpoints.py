"""POST /v1/auth/register, /login, /refresh, /logout."""

import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.exc import IntegrityError

from gateway_service.accounts import passwords
from gateway_service.accounts.plan_events import announce_plan
from gateway_service.accounts.profile import profile
from gateway_service.accounts.repository import Users
from gateway_service.accounts.schemas import (
    LoginRequest,
    RefreshRequest,
    RegisterRequest,
    TokenPair,
    User,
)
from gateway_service.auth import session_cookie
from gateway_service.auth.login_throttle import LoginThrottle, counted
from gateway_service.auth.refresh_tokens import RefreshRejected, RefreshTokens
from gateway_service.auth.tokens import AccessTokens
from gateway_service.http.dependencies import (
    Database,
    EventOutbox,
    Session,
    access_tokens,
    unauthorized,
)
from gateway_service.http.error_docs import errors
from gateway_service.http.problems import Problem

router = APIRouter(prefix="/v1/auth", tags=["auth"])

Tokens = Annotated[AccessTokens, Depends(access_tokens)]


async def refresh_tokens(request: Request, session: Session) -> RefreshTokens:
    lifetime: timedelta = request.app.state.refresh_lifetime
    return RefreshTokens(session, lifetime)


Refresh = Annotated[RefreshTokens, Depends(refresh_tokens)]


def conflict(fields: list[str]) -> Problem:
    return Problem(
        409,
        "account-exists",
        "Account exists",
        f"{' and '.join(fields)} already registered",
        fields=fields,
    )


@router.post("/register", status_code=201, summary="Create an account", responses=errors(409))
async def register(
    body: RegisterRequest,
    session: Session,
    database: Database,
    events: EventOutbox,
    request: Request,
) -> User:
    users = Users(session)
    taken = await users.taken(email=body.email, username=body.username)
    if taken:
        raise conflict(taken)
    user_id = await users.add(
        email=body.email,
        username=body.username,
        password_hash=passwords.hash_password(body.password),
        full_name=body.full_name,
        is_admin=body.email.lower() == request.app.state.bootstrap_admin,
    )
    await announce_plan(events, session, user_id, "solo", request.state.request_id)
    try:
        await session.commit()
    except IntegrityError:  # a concurrent registration won the race
        raise conflict(["email or username"]) from None
    return await profile(database, user_id)


@router.post(
    "/login",
    summary="Exchange credentials for an access and a refresh token",
    description="Repeated failures for one login name (or from one address) are throttled: "
    "`429` with `Retry-After` until the back-off has passed.",
    responses=errors(401, 403, 429),
)
async def login(
    body: LoginRequest,
    session: Session,
    tokens: Tokens,
    refresh: Refresh,
    request: Request,
    response: Response,
) -> TokenPair:
    throttle = LoginThrottle(session)
    keys = counted(body.login, request.client.host if request.client else None)
    wait_s = await throttle.blocked_for_s(keys)
    if wait_s:
        problem = Problem(
            429,
            "login-throttled",
            "Too many failed logins",
            f"too many failed logins for this account or address; try again in {wait_s}s",
        )
        problem.headers["Retry-After"] = str(wait_s)
        raise problem
    user = await Users(session).by_login(body.login)
    if user is None:
        passwords.burn_verification_time(body.password)
    if user is None or not passwords.verify_password(user.password_hash, body.password):
        await throttle.failed(keys)
        await session.commit()
        raise unauthorized("wrong login or password")
    await throttle.succeeded(body.login)
    if not user.is_active:
        raise Problem(
            403,
            "account-deactivated",
            "Account deactivated",
            "this account is deactivated; contact an administrator",
        )
    refresh_token = await refresh.start_family(user.id)
    await session.commit()
    session_cookie.keep(response, request, refresh_token, refresh.lifetime)
    return pair(tokens, user.id, refresh_token)


@router.post(
    "/refresh",
    summary="Rotate a refresh token for a new token pair",
    description="The token is the body's, or else the `na_refresh` cookie's (a browser's: "
    "login and refresh set it, `HttpOnly`).",
    responses=errors(401),
)
async def refresh_pair(
    session: Session,
    tokens: Tokens,
    refresh: Refresh,
    request: Request,
    response: Response,
    body: RefreshRequest | None = None,
) -> TokenPair:
    try:
        rotation = await refresh.rotate(session_cookie.presented(body, request))
    except RefreshRejected as rejected:
        await session.commit()  # keeps the family revocation of a reused token
        raise session_cookie.refused(unauthorized(str(rejected))) from None
    await session.commit()
    session_cookie.keep(response, request, rotation.token, refresh.lifetime)
    return pair(tokens, rotation.user_id, rotation.token)


@router.post(
    "/logout",
    status_code=204,
    summary="Revoke a refresh token (the body's, or the cookie's) and its family",
    responses=errors(401),
)
async def logout(
    session: Session, refresh: Refresh, request: Request, body: RefreshRequest | None = None
) -> Response:
    await refresh.revoke_by_token(session_cookie.presented(body, request))
    await session.commit()
    response = Response(status_code=204)
    session_cookie.forget(response)
    return response


def pair(tokens: AccessTokens, user_id: uuid.UUID, refresh_token: str) -> TokenPair:
    return TokenPair(
        access_token=tokens.issue(user_id),
        expires_in=int(tokens.lifetime.total_seconds()),
        refresh_token=refresh_token,
    )
