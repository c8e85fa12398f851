"""Admission as endpoints use it.

`Depends(admitted("search", scope="search"))` is an endpoint's caller, admitted before the
endpoint runs. An endpoint that makes work (a generation, a Notion save, a document's upload,
retry or deletion) learns whose it is first (`user_asking`, or an identified caller) and calls
`admission_of` with that work instead: it is written if and only if the request is admitted.
Work of no rate-limit family (a deletion) is admitted without being counted.
Either way the answer is the caller, or the problem that refuses it: 401 for an unknown
credential, 403 for a key without the scope, 402 for a user over a hard budget, and 429 (with
the headers that say when to come back) past the rate limit. All of it is decided by one
statement (`admission.gate`)."""

import uuid
from collections.abc import Awaitable, Callable

from fastapi import Request

from assistant_db import Statements
from assistant_runtime.http import response_headers
from gateway_service.admission.gate import Acceptance, Admission, Admissions, Query
from gateway_service.auth.callers import Caller
from gateway_service.http.dependencies import (
    Bearer,
    admits_nobody,
    authenticated,
    credential_of,
    insufficient_scope,
)
from gateway_service.http.problems import Problem


def admitted(family: str, *, scope: str, budget: bool = False) -> Callable[..., Awaitable[Caller]]:
    # The app's services come from its state, not from dependencies of their own: each
    # dependency FastAPI resolves costs a third of what a bare endpoint does.
    async def admit(bearer: Bearer, request: Request) -> Caller:
        query = Query(credential_of(request, bearer), family, scope, budget)
        return await admission_of(query, request)

    return admit


async def admission_of(
    query: Query,
    request: Request,
    work: Acceptance | None = None,
    transaction: Statements | None = None,
) -> Caller:
    """The caller `query` admits (its answer will carry its rate limit headers), or the
    problem that refuses it; `work` is written if and only if it is admitted (in
    `transaction` if given)."""
    admission = await admissions_of(request).admission(query, work, transaction)
    caller = admitted_caller(query, admission, request)
    assert work is None or (admission is not None and admission.accepted)  # admitted: written
    return caller


async def user_asking(query: Query, request: Request) -> uuid.UUID:
    """Whose work the request would be, known before its admission (which makes that work):
    401 for a credential that admits nobody, 403 for a key without the scope (a key's user
    and scopes never change; whether it is still live is the admission's to say)."""
    known = await admissions_of(request).known(query.credential)
    if known is None:
        raise admits_nobody(query.credential)
    if not known.allows(query.scope):
        raise insufficient_scope(query.scope)
    return known.user_id


def admissions_of(request: Request) -> Admissions:
    admissions: Admissions = request.app.state.admissions
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
    if query.family is None:
        return caller  # not rate limited
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
