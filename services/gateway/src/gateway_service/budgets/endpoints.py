"""Administrators' budget limits, kept by analytics: per plan tier, and per user overrides."""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Request, Response

from assistant_schemas.budget import (
    BudgetLimits,
    BudgetLimitsQueryPayload,
    BudgetLimitsQueryV1,
    BudgetLimitsResultPayload,
    BudgetLimitsResultV1,
)
from gateway_service.http.dependencies import AdminCaller
from gateway_service.http.events import caller_event
from gateway_service.http.queries import Replies, ask

router = APIRouter(prefix="/v1/admin/budgets", tags=["administration"])

Tier = Literal["solo", "team", "enterprise"]


async def ask_limits(
    replies: Replies, admin: AdminCaller, request: Request, payload: BudgetLimitsQueryPayload
) -> BudgetLimitsResultPayload:
    query = caller_event(BudgetLimitsQueryV1, payload, admin, request)
    return (await ask(replies, query, BudgetLimitsResultV1)).payload


@router.get("/tiers/{plan_tier}", summary="A plan tier's monthly limits")
async def tier_limits(
    plan_tier: Tier, admin: AdminCaller, request: Request, replies: Replies
) -> BudgetLimitsResultPayload:
    payload = BudgetLimitsQueryPayload(action="get", scope="tier", plan_tier=plan_tier)
    return await ask_limits(replies, admin, request, payload)


@router.put("/tiers/{plan_tier}", summary="Set a plan tier's monthly limits (null: no limit)")
async def set_tier_limits(
    plan_tier: Tier, body: BudgetLimits, admin: AdminCaller, request: Request, replies: Replies
) -> BudgetLimitsResultPayload:
    payload = BudgetLimitsQueryPayload(action="set", scope="tier", plan_tier=plan_tier, limits=body)
    return await ask_limits(replies, admin, request, payload)


@router.get("/users/{user_id}", summary="A user's own limits (null: the tier's apply)")
async def user_limits(
    user_id: uuid.UUID, admin: AdminCaller, request: Request, replies: Replies
) -> BudgetLimitsResultPayload:
    payload = BudgetLimitsQueryPayload(action="get", scope="user", target_user_id=user_id)
    return await ask_limits(replies, admin, request, payload)


@router.put("/users/{user_id}", summary="Override a user's monthly limits")
async def set_user_limits(
    user_id: uuid.UUID,
    body: BudgetLimits,
    admin: AdminCaller,
    request: Request,
    replies: Replies,
) -> BudgetLimitsResultPayload:
    payload = BudgetLimitsQueryPayload(
        action="set", scope="user", target_user_id=user_id, limits=body
    )
    return await ask_limits(replies, admin, request, payload)


@router.delete(
    "/users/{user_id}", status_code=204, summary="Remove a user's override; the tier's apply"
)
async def clear_user_limits(
    user_id: uuid.UUID, admin: AdminCaller, request: Request, replies: Replies
) -> Response:
    payload = BudgetLimitsQueryPayload(action="clear", scope="user", target_user_id=user_id)
    await ask_limits(replies, admin, request, payload)
    return Response(status_code=204)
