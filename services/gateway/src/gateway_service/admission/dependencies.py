"""The admission dependency of endpoints that create work.

`Depends(admitted("generation", scope="generate", budget=True))` is the endpoint's caller: it
answers 401 for an unknown credential, 403 for a key without the scope, 402 for a user over a
hard budget, and 429 (with the headers that say when to come back) past the rate limit — all
decided by one statement (`admission.gate`), shared with the requests arriving meanwhile."""

from collections.abc import Awaitable, Callable

from fastapi import Request, Response

from gateway_service.admission.gate import CoalescedAdmissions, Query
from gateway_service.auth.callers import Caller
from gateway_service.http.dependencies import (
    Bearer,
    authenticated,
    credential_of,
    insufficient_scope,
)
from gateway_service.http.problems import Problem


def admitted(family: str, *, scope: str, budget: bool = False) -> Callable[..., Awaitable[Caller]]:
    # The app's services come from its state, not from dependencies of their own: each
    # dependency FastAPI resolves costs a third of what a bare endpoint does.
    async def admit(bearer: Bearer, request: Request, response: Response) -> Caller:
        credential = credential_of(request, bearer)
        admissions: CoalescedAdmissions = request.app.state.admissions
        admission = await admissions.admission(Query(credential, family, scope, budget))
        if admission is None:
            return authenticated(credential, None, False)
        caller = authenticated(credential, admission.caller, admission.is_active)
        if not caller.allows(scope):
            raise insufficient_scope(scope)
        if admission.over_budget:
            raise Problem(
                402,
                "budget-exceeded",
                "Budget exceeded",
                "this month's hard spending limit is reached; raise the budget or wait for "
                "next month",
            )
        decision = admission.decision
        assert decision is not None  # counted: active, in scope, within budget
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
