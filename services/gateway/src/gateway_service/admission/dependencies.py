"""Admission dependencies for endpoints that create work.

`Depends(within_budget)` refuses a user over a hard budget (402); `Depends(rate_limited(f))`
admits the caller or answers 429 with the headers that say when to come back (the count
commits at once, whatever the endpoint does next)."""

from collections.abc import Awaitable, Callable

from fastapi import Request, Response

from gateway_service.admission import budgets
from gateway_service.admission.rate_limits import RateLimiter
from gateway_service.http.dependencies import Caller, CurrentCaller, Session
from gateway_service.http.problems import Problem


async def within_budget(caller: CurrentCaller, session: Session) -> Caller:
    """Refuses a caller whose month is over a hard budget limit, before any provider call."""
    if await budgets.over_hard_limit(session, caller.user_id):
        raise Problem(
            402,
            "budget-exceeded",
            "Budget exceeded",
            "this month's hard spending limit is reached; raise the budget or wait for next month",
        )
    return caller


def rate_limited(family: str) -> Callable[..., Awaitable[Caller]]:
    async def admit(
        caller: CurrentCaller, session: Session, request: Request, response: Response
    ) -> Caller:
        limiter: RateLimiter = request.app.state.rate_limiter
        decision = await limiter.admit(session, caller.user_id, caller.plan_tier, family)
        await session.commit()
        if not decision.allowed:
            problem = Problem(
                429,
                "rate-limited",
                "Too many requests",
                f"{family}: the {caller.plan_tier} plan allows {decision.limit} requests a "
                f"minute; retry in {decision.retry_after_s}s",
                family=family,
                limit=decision.limit,
            )
            problem.headers.update(decision.headers())
            raise problem
        response.headers.update(decision.headers())
        return caller

    return admit
