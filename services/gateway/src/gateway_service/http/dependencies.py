"""FastAPI dependencies: a database session per request, token services, the caller.

All of them are `async def`: FastAPI runs a plain `def` dependency in a thread pool, a thread
hop per request that cost a quarter of the gateway's time."""

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

import structlog
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from assistant_messaging.outbox import Outbox
from gateway_service.accounts.repository import Account, Users
from gateway_service.auth.api_keys import AccessKeys, looks_like_api_key
from gateway_service.auth.tokens import AccessTokens, InvalidToken
from gateway_service.http.problems import Problem


async def database_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.runtime.sessions() as session:
        yield session


Session = Annotated[AsyncSession, Depends(database_session)]


async def access_tokens(request: Request) -> AccessTokens:
    tokens: AccessTokens = request.app.state.access_tokens
    return tokens


@dataclass(frozen=True)
class Caller:
    user_id: uuid.UUID
    is_admin: bool
    plan_tier: str
    scopes: frozenset[str] | None = None  # None: a login session, every scope

    def allows(self, scope: str) -> bool:
        return self.scopes is None or not self.scopes or scope in self.scopes


def unauthorized(detail: str) -> Problem:
    problem = Problem(401, "unauthorized", "Authentication required", detail)
    problem.headers["WWW-Authenticate"] = "Bearer"
    return problem


_bearer = HTTPBearer(auto_error=False, description="An access token from /v1/auth/login.")


async def current_caller(
    session: Session,
    tokens: Annotated[AccessTokens, Depends(access_tokens)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    if credentials is None:
        raise unauthorized("send `Authorization: Bearer <access token or API key>`")
    scopes: frozenset[str] | None = None
    account: Account | None
    if looks_like_api_key(credentials.credentials):
        found = await AccessKeys(session).authenticate(credentials.credentials)
        if found is None:
            raise unauthorized("the API key is unknown, revoked or expired")
        account, scopes = found
    else:
        try:
            user_id = tokens.verify(credentials.credentials).user_id
        except InvalidToken:
            raise unauthorized(
                "the access token is invalid or expired; refresh or log in"
            ) from None
        account = await Users(session).account(user_id)
    if account is None or not account.is_active:
        raise unauthorized("the account no longer exists or is deactivated")
    structlog.contextvars.bind_contextvars(user_id=str(account.user_id))
    return Caller(
        user_id=account.user_id,
        is_admin=account.is_admin,
        plan_tier=account.plan_tier,
        scopes=scopes,
    )


CurrentCaller = Annotated[Caller, Depends(current_caller)]


def scoped(scope: str) -> Callable[[Caller], Awaitable[Caller]]:
    """A dependency admitting callers whose credential carries `scope`."""

    async def check(caller: CurrentCaller) -> Caller:
        if not caller.allows(scope):
            raise Problem(
                403,
                "insufficient-scope",
                "Insufficient scope",
                f"this API key lacks the `{scope}` scope",
                required_scope=scope,
            )
        return caller

    return check


async def administrator(caller: CurrentCaller) -> Caller:
    if not caller.is_admin:
        raise Problem(
            403, "admin-only", "Administrators only", "this endpoint is for administrators"
        )
    return caller


AccountCaller = Annotated[Caller, Depends(scoped("account"))]
AdminCaller = Annotated[Caller, Depends(administrator)]


async def event_outbox(request: Request) -> Outbox:
    outbox: Outbox = request.app.state.runtime.outbox
    return outbox


EventOutbox = Annotated[Outbox, Depends(event_outbox)]
