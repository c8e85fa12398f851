"""A browser's refresh token, kept in an `HttpOnly` cookie that no script can read.

Login and refresh set it beside the token pair in the body (which API clients use and a
browser app drops); refresh and logout take the body's token, or else this cookie. It is sent
only to `/v1/auth`, only from this site (`SameSite=Strict`, so no other site can make a
browser spend it), and only over HTTPS when the request came over HTTPS.
"""

from datetime import timedelta

from fastapi import Request, Response

from gateway_service.accounts.schemas import RefreshRequest
from gateway_service.http.dependencies import unauthorized
from gateway_service.http.problems import Problem

COOKIE = "na_refresh"
PATH = "/v1/auth"


def keep(response: Response, request: Request, token: str, lifetime: timedelta) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(lifetime.total_seconds()),
        path=PATH,
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )


def forget(response: Response) -> None:
    response.delete_cookie(COOKIE, path=PATH, httponly=True, samesite="strict")


def presented(body: RefreshRequest | None, request: Request) -> str:
    """The refresh token the body names, or else the cookie's; 401 when neither does."""
    token = body.refresh_token if body is not None else request.cookies.get(COOKIE)
    if not token:
        raise unauthorized("send a refresh_token, or log in again")
    return token


def refused(problem: Problem) -> Problem:
    """`problem`, telling the browser to drop a cookie that no longer works."""
    problem.headers["Set-Cookie"] = f"{COOKIE}=; Max-Age=0; Path={PATH}; HttpOnly; SameSite=strict"
    return problem
