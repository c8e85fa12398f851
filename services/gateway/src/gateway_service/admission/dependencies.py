"""The admission dependency of endpoints that create work.

`Depends(admitted("generation", scope="generate", budget=True))` is the endpoint's caller: it
answers 401 for an unknown credential, 403 for a key without the scope, 402 for a user over a
hard budget, and 429 (with the headers that say when to come back) past the rate limit — all
decided by one statement (`admission.gate`), shared with the requests arriving meanwhile.

An endpoint that accepts a request's work in a single statement can instead hand it to an
`AdmittingAcceptor`, which admits the request in that same statement: one round trip, and
nothing written for a request that is refused."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import Request

from assistant_runtime.http import response_headers
from gateway_service.admission.gate import Admission, CoalescedAdmissions, Query
from gateway_service.auth.callers import Caller
from gateway_service.http.dependencies import (
    Bearer,
    authenticated,
    credential_of,
    insufficient_scope,
)
from gateway_service.http.problems import Problem
from gateway_service.requests.acceptance import Acceptance


def admitted(family: str, *, scope: str, budget: bool = False) -> Callable[..., Awaitable[Caller]]:
    # The app's services come from its state, not from dependencies of their own: each
    # dependency FastAPI resolves costs a third of what a bare endpoint does.
    async def admit(bearer: Bearer, request: Request) -> Caller:
        query = Query(credential_of(request, bearer), family, scope, budget)
        return await admission_of(query, request)

    return admit


async def admission_of(query: Query, request: Request) -> Caller:
    """The caller `query` admits (its answer will carry its rate limit headers), or the problem
    that refuses it."""
    return admitted_caller(query, await admissions_of(request).admission(query), request)


def admissions_of(request: Request) -> CoalescedAdmissions:
    admissions: CoalescedAdmissions = request.app.state.admissions
    return admissions


def admitted_caller(query: Query, admission: Admission | None, request: Request) -> Caller:
    if admission is None:
        return authenticated(query.credential, None, False)
    caller = authenticated(query.credential, admission.caller, admission.is_active)
    if not caller.allows(query.scope):
        raise insufficient_scope(query.scope)
    if admission.over_budget:
        raise Problem(
            402,
            "budget-exceeded",
            "Budget exceeded",
            "this month's hard spending limit is reached; raise the budget or wait for next month",
        )
    decision = admission.decision
    assert decision is not None  # counted: active, in scope, within budget
    if not decision.allowed:
        problem = Problem(
            429,
            "rate-limited",
            "Too many requests",
            f"{query.family}: the {caller.plan_tier} plan allows {decision.limit} requests a "
            f"minute; retry in {decision.retry_after_s}s",
            family=query.family,
            limit=decision.limit,
        )
        problem.headers.update(decision.headers())
        raise problem
    response_headers(request).update(decision.headers())
    return caller


@dataclass(frozen=True)
class AdmittingAcceptor:
    """Accepts a request's work with its admission, in one statement
    (`CoalescedAdmissions.admission_accepting`); refused, it writes nothing and raises the
    refusal, as `admitted` would have before the endpoint ran."""

    query: Query
    request: Request

    async def accept(self, acceptance: Acceptance) -> None:
        admission = await admissions_of(self.request).admission_accepting(self.query, acceptance)
        admitted_caller(self.query, admission, self.request)
