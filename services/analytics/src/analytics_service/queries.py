"""Queries analytics answers over request/reply: usage reports, the month's summary, and the
budget limits administrators read and set."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from functools import partial
from typing import Any

from sqlalchemy import ColumnElement, desc, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from analytics_service import budgets, statements
from analytics_service.latency import percentile
from analytics_service.models import daily_usage, tier_budgets, usage_events, user_budgets
from assistant_messaging.publishing.outbox import Outbox
from assistant_messaging.request_reply import replies
from assistant_schemas import Envelope
from assistant_schemas.budget import (
    BudgetLimits,
    BudgetLimitsQueryV1,
    BudgetLimitsResultPayload,
    BudgetLimitsResultV1,
)
from assistant_schemas.common import TokenUsage
from assistant_schemas.queries import (
    UsageReportQueryPayload,
    UsageReportQueryV1,
    UsageReportResultPayload,
    UsageReportResultV1,
    UsageReportRow,
    UsageSummary,
)

# Replies carry the query's correlation id and user; this service is their producer.
answer = partial(replies.answer, producer="analytics")
refusal = partial(replies.refusal, producer="analytics")

DIMENSIONS: dict[str, ColumnElement[Any]] = {
    "day": daily_usage.c.day,
    "provider": daily_usage.c.provider,
    "model": daily_usage.c.model,
    "user": daily_usage.c.user_id,
}
SUMMED = (
    "requests",
    "input_tokens",
    "output_tokens",
    "cached_tokens",
    "reasoning_tokens",
    "embedding_tokens",
    "api_calls",
    "cost_usd",
    "unpriced_events",
)


class UsageReports:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def __call__(self, query: UsageReportQueryV1) -> Envelope[Any]:
        p = query.payload
        if query.user_id is None and not p.all_users:
            return refusal(query, 400, "the query names no user")
        async with self._sessions() as session:
            if p.kind == "summary":
                assert query.user_id is not None
                summary = await self._summary(session, query.user_id)
                return answer(query, UsageReportResultV1, UsageReportResultPayload(summary=summary))
            problem = p.range_problem()
            if problem:
                return refusal(query, 400, problem)
            if p.kind == "requests":
                assert query.user_id is not None
                rows = await self._per_request(session, p, query.user_id)
            else:
                rows = await self._rows(session, p, None if p.all_users else query.user_id)
        return answer(query, UsageReportResultV1, UsageReportResultPayload(rows=rows))

    @staticmethod
    async def _rows(
        session: AsyncSession, p: UsageReportQueryPayload, user_id: uuid.UUID | None
    ) -> list[UsageReportRow]:
        dimensions = list(dict.fromkeys(p.group_by))
        keys = [DIMENSIONS[d].label(d) for d in dimensions]
        sums = [func.sum(daily_usage.c[c]).label(c) for c in SUMMED]
        histogram = func.analytics.histogram_sum(daily_usage.c.latency_buckets).label("latency")
        statement = (
            select(*keys, *sums, histogram)
            .where(daily_usage.c.day.between(p.start, p.end))
            .group_by(*keys)
            .limit(p.limit)
        )
        if user_id is not None:
            statement = statement.where(daily_usage.c.user_id == user_id)
        if "user" in dimensions:  # top spenders first
            statement = statement.order_by(desc("cost_usd"), *keys)
        else:
            statement = statement.order_by(*keys)
        rows = []
        for row in await session.execute(statement):
            values = row._mapping
            rows.append(
                UsageReportRow(
                    day=values.get("day"),
                    provider=values.get("provider"),
                    model=values.get("model"),
                    user_id=values.get("user"),
                    requests=values["requests"],
                    tokens=TokenUsage(
                        input_tokens=values["input_tokens"],
                        output_tokens=values["output_tokens"],
                        cached_tokens=values["cached_tokens"],
                        reasoning_tokens=values["reasoning_tokens"],
                    ),
                    embedding_tokens=values["embedding_tokens"],
                    api_calls=values["api_calls"],
                    cost_usd=values["cost_usd"],
                    unpriced_events=values["unpriced_events"],
                    latency_p50_ms=percentile(values["latency"], 0.5),
                    latency_p95_ms=percentile(values["latency"], 0.95),
                )
            )
        return rows

    @staticmethod
    async def _per_request(
        session: AsyncSession, p: UsageReportQueryPayload, user_id: uuid.UUID
    ) -> list[UsageReportRow]:
        """One row per named request of the user's, from the ledger (the days bound the
        partitions read)."""
        assert p.start is not None  # range_problem checked both
        assert p.end is not None
        since = datetime.combine(p.start, time.min, UTC)
        until = datetime.combine(p.end + timedelta(days=1), time.min, UTC)
        e = usage_events.c
        unpriced = func.count().filter(e.cost_usd.is_(None))
        statement = (
            select(
                e.request_id,
                func.sum(e.input_tokens).label("input_tokens"),
                func.sum(e.output_tokens).label("output_tokens"),
                func.sum(e.cached_tokens).label("cached_tokens"),
                func.sum(e.reasoning_tokens).label("reasoning_tokens"),
                func.sum(e.embedding_tokens).label("embedding_tokens"),
                func.sum(e.api_calls).label("api_calls"),
                func.coalesce(func.sum(e.cost_usd), 0).label("cost_usd"),
                unpriced.label("unpriced_events"),
            )
            .where(
                e.user_id == user_id,
                e.request_id.in_(p.request_ids),
                e.occurred_at >= since,
                e.occurred_at < until,
            )
            .group_by(e.request_id)
        )
        return [
            UsageReportRow(
                request_id=row.request_id,
                requests=1,
                tokens=TokenUsage(
                    input_tokens=row.input_tokens,
                    output_tokens=row.output_tokens,
                    cached_tokens=row.cached_tokens,
                    reasoning_tokens=row.reasoning_tokens,
                ),
                embedding_tokens=row.embedding_tokens,
                api_calls=row.api_calls,
                cost_usd=row.cost_usd,
                unpriced_events=row.unpriced_events,
            )
            for row in await session.execute(statement)
        ]

    @staticmethod
    async def _summary(session: AsyncSession, user_id: uuid.UUID) -> UsageSummary:
        period = budgets.current_period()
        row = (
            await session.execute(statements.SUMMARY, {"user_id": user_id, "period": period})
        ).one()
        spent, tokens, requests, unpriced, soft, hard, token_limit, state = row
        return UsageSummary(
            period=period,
            spent_usd=spent,
            tokens=tokens,
            requests=requests,
            unpriced_events=unpriced,
            soft_limit_usd=soft,
            hard_limit_usd=hard,
            token_limit=token_limit,
            remaining_usd=None if hard is None else max(hard - spent, 0),
            remaining_tokens=None if token_limit is None else max(token_limit - tokens, 0),
            state=state,
        )


class BudgetLimitQueries:
    """Administrators' reads and changes of limits; a change re-checks the users it affects
    and announces their budgets (through the outbox, in the same transaction)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], outbox: Outbox) -> None:
        self._sessions = sessions
        self._outbox = outbox

    async def __call__(self, query: BudgetLimitsQueryV1) -> Envelope[Any]:
        p = query.payload
        if p.scope == "tier" and p.plan_tier is None:
            return refusal(query, 400, "plan_tier: required for a tier's limits")
        if p.scope == "user" and p.target_user_id is None:
            return refusal(query, 400, "target_user_id: required for a user's limits")
        if p.action == "set" and p.limits is None:
            return refusal(query, 400, "limits: required to set limits")
        if p.action == "clear" and p.scope == "tier":
            return refusal(query, 400, "scope: a tier's limits can be set, not cleared")
        table = tier_budgets if p.scope == "tier" else user_budgets
        key = (
            (tier_budgets.c.plan_tier, p.plan_tier)
            if p.scope == "tier"
            else (user_budgets.c.user_id, p.target_user_id)
        )
        async with self._sessions() as session, session.begin():
            if p.action == "set":
                assert p.limits is not None
                values = p.limits.model_dump()
                statement = insert(table).values({key[0].name: key[1], **values})
                await session.execute(
                    statement.on_conflict_do_update(index_elements=[key[0]], set_=values)
                )
            elif p.action == "clear":
                await session.execute(table.delete().where(key[0] == key[1]))
            if p.action != "get":
                await self._announce(session, query)
            row = (await session.execute(select(table).where(key[0] == key[1]))).first()
        limits = (
            BudgetLimits(
                soft_limit_usd=row.soft_limit_usd,
                hard_limit_usd=row.hard_limit_usd,
                token_limit=row.token_limit,
            )
            if row
            else None
        )
        return answer(
            query,
            BudgetLimitsResultV1,
            BudgetLimitsResultPayload(
                scope=p.scope,
                plan_tier=p.plan_tier,
                target_user_id=p.target_user_id,
                limits=limits,
            ),
        )

    async def _announce(self, session: AsyncSession, query: BudgetLimitsQueryV1) -> None:
        p = query.payload
        if p.scope == "user":
            assert p.target_user_id is not None
            affected = [p.target_user_id]
        else:
            affected = list(
                await session.scalars(
                    statements.MONTHS_OF_TIER,
                    {
                        "period": budgets.current_period(),
                        "default": statements.DEFAULT_TIER,
                        "tier": p.plan_tier,
                    },
                )
            )
        announcements = await budgets.reevaluate(
            session, affected, query.correlation_id, always_announce=True
        )
        for announcement in announcements:
            await self._outbox.add(session, announcement)
