"""FastAPI dependencies: the request's database connection and sessions, token services, the
caller.

All of them are `async def`: FastAPI runs a plain `def` dependency in a thread pool, a thread
hop per request that cost a quarter of the gateway's time."""

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

import structlog
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from assistant_db import Statements
from assistant_messaging.publishing.outbox import Outbox
from gateway_service.auth.callers import Caller, Credential, identify, key_hash, looks_like_api_key
from gateway_service.auth.tokens import AccessTokens, InvalidToken
from gateway_service.http.problems import Problem


def sessions_of(request: Request) -> Callable[[], AsyncSession]:
    """Opens the request's sessions (tests make them join their rolled-back transaction)."""
    sessions: Callable[[], AsyncSession] = request.app.state.sessions
    return sessions


async def database_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with sessions_of(request)() as session:
        yield session


# Closed when the endpoint returns, not after its response: a streamed answer must not hold a
# pooled connection for as long as the stream lasts.
Session = Annotated[AsyncSession, Depends(database_session, scope="function")]


async def database_connection(request: Request) -> Statements:
    """Where the hot path's constant statements go (the caller, the admission, the
    acceptance): the driver pool, each statement committed on its own, no session opened."""
    pool: Statements = await request.app.state.runtime.driver_pool.pool()
    return pool


Database = Annotated[Statements, Depends(database_connection)]


async def access_tokens(request: Request) -> AccessTokens:
    tokens: AccessTokens = request.app.state.access_tokens
    return tokens


def unauthorized(detail: str) -> Problem:
    problem = Problem(401, "unauthorized", "Authentication required", detail)
    problem.headers["WWW-Authenticate"] = "Bearer"
    return problem


_bearer = HTTPBearer(auto_error=False, description="An access token from /v1/auth/login.")
Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def credential_of(request: Request, bearer: HTTPAuthorizationCredentials | None) -> Credential:
    """What the request proves (an API key, or a verified access token), not yet looked up.
    The token service comes from the app's state: as a dependency of its own it would cost
    every authenticated request 15-20 µs (see `admission.dependencies`)."""
    tokens: AccessTokens = request.app.state.access_tokens
    if bearer is None:
        raise unauthorized("send `Authorization: Bearer <access token or API key>`")
    if looks_like_api_key(bearer.credentials):
        return Credential(api_key_hash=key_hash(bearer.credentials))
    try:
        return Credential(user_id=tokens.verify(bearer.credentials).user_id)
    except InvalidToken:
        raise unauthorized("the access token is invalid or expired; refresh or log in") from None


async def presented_credential(request: Request) -> Credential:
    """`credential_of` for an endpoint that reads the `Authorization` header itself instead of
    depending on `Bearer` (and declares `BEARER_SECURITY` in its OpenAPI operation), as a
    `DirectRoute`'s must. Its body has been validated first."""
    return credential_of(request, await _bearer(request))


BEARER_SECURITY: dict[str, object] = {"security": [{_bearer.scheme_name: []}]}


def admits_nobody(credential: Credential) -> Problem:
    """The 401 for a credential that admits nobody, saying why."""
    if credential.api_key_hash is not None:
        return unauthorized("the API key is unknown, revoked or expired")
    return unauthorized("the account no longer exists or is deactivated")


def authenticated(credential: Credential, caller: Caller | None, is_active: bool) -> Caller:
    """The caller, or 401 saying why the credential admits nobody."""
    if caller is None:
        raise admits_nobody(credential)
    if not is_active:
        raise unauthorized("the account no longer exists or is deactivated")
    structlog.contextvars.bind_contextvars(user_id=str(caller.user_id))
    return caller


async def current_caller(database: Database, bearer: Bearer, request: Request) -> Caller:
    credential = credential_of(request, bearer)
    row = await identify(database, credential)
    if row is None:
        return authenticated(credential, None, False)
    return authenticated(credential, Caller.of(row), row["is_active"])


CurrentCaller = Annotated[Caller, Depends(current_caller)]


def insufficient_scope(scope: str) -> Problem:
    return Problem(
        403,
        "insufficient-scope",
        "Insufficient scope",
        f"this API key lacks the `{scope}` scope",
        required_scope=scope,
    )


def scoped(scope: str) -> Callable[[Caller], Awaitable[Caller]]:
    """A dependency admitting callers whose credential carries `scope`."""

    async def check(caller: CurrentCaller) -> Caller:
        if not caller.allows(scope):
            raise insufficient_scope(scope)
        return caller

    return check


async def administrator(caller: CurrentCaller) -> Caller:
    """An administrator, with a login session or a key holding the `account` scope."""
    if not caller.allows("account"):
        raise insufficient_scope("account")
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
