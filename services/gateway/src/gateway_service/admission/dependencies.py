"""`Depends(rate_limited("generation"))`: admit the caller or answer 429 with the headers that
say when to come back. The count commits at once, whatever the endpoint does next."""

from collections.abc import Awaitable, Callable

from fastapi import Request, Response

from gateway_service.admission.rate_limits import RateLimiter
from gateway_service.http.dependencies import Caller, CurrentCaller, Session
from gateway_service.http.problems import Problem


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
