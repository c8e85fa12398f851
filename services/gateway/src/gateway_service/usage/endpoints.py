"""GET /v1/usage (JSON or CSV), GET /v1/usage/summary, and the administrators' usage report;
answered by analytics from its rollups, always for the caller unless an admin asks for all."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal, get_args

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel

from assistant_schemas.queries import (
    ReportDimension,
    UsageReportQueryPayload,
    UsageReportQueryV1,
    UsageReportResultPayload,
    UsageReportResultV1,
    UsageReportRow,
    UsageSummary,
)
from gateway_service.auth.callers import Caller
from gateway_service.http.dependencies import AdminCaller, scoped
from gateway_service.http.events import caller_event
from gateway_service.http.problems import Problem, invalid
from gateway_service.http.queries import Replies, ask

router = APIRouter(tags=["usage"])

UsageCaller = Annotated[Caller, Depends(scoped("usage"))]
CSV_COLUMNS = (
    "day",
    "provider",
    "model",
    "user_id",
    "requests",
    "input_tokens",
    "output_tokens",
    "cached_tokens",
    "reasoning_tokens",
    "embedding_tokens",
    "api_calls",
    "cost_usd",
    "unpriced_events",
    "latency_p50_ms",
    "latency_p95_ms",
)


# `format=csv`: the same rows as a file (dollars in plain notation, latencies in whole ms).
CSV_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}, "example": ",".join(CSV_COLUMNS)}}}
}


class UsageReport(BaseModel):
    start: date
    end: date
    group_by: list[ReportDimension]
    rows: list[UsageReportRow]


def dimensions(group_by: str, allowed: tuple[str, ...]) -> list[ReportDimension]:
    names = [name.strip() for name in group_by.split(",") if name.strip()]
    unknown = [name for name in names if name not in allowed]
    if unknown or not names:
        raise invalid("group_by", "dimensions", f"comma-separated, from {', '.join(allowed)}")
    return names  # type: ignore[return-value]


def report_payload(
    start: date | None, end: date | None, group_by: list[ReportDimension], **options: object
) -> UsageReportQueryPayload:
    today = datetime.now(UTC).date()
    payload = UsageReportQueryPayload(
        start=start or today.replace(day=1),
        end=end or today,
        group_by=group_by,
        **options,
    )
    problem = payload.range_problem()
    if problem:
        parameter, _, rule = problem.partition(": ")
        raise invalid(parameter, "range", rule)
    return payload


async def ask_analytics(
    replies: Replies, caller: Caller, request: Request, payload: UsageReportQueryPayload
) -> UsageReportResultPayload:
    query = caller_event(UsageReportQueryV1, payload, caller, request)
    return (await ask(replies, query, UsageReportResultV1)).payload


def respond(
    payload: UsageReportQueryPayload, result: UsageReportResultPayload, format: str, name: str
) -> UsageReport | Response:
    assert payload.start
    assert payload.end
    if format == "csv":
        return as_csv(result.rows, f"{name}-{payload.start}-{payload.end}.csv")
    return UsageReport(
        start=payload.start, end=payload.end, group_by=payload.group_by, rows=result.rows
    )


def as_csv(rows: list[UsageReportRow], filename: str) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        values = {**row.model_dump(mode="json", exclude={"tokens"}), **row.tokens.model_dump()}
        writer.writerow(["" if values[c] is None else values[c] for c in CSV_COLUMNS])
    return Response(
        out.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


Start = Annotated[date | None, Query(description="first UTC day; default: this month's first")]
End = Annotated[date | None, Query(description="last UTC day; default: today")]
Format = Annotated[Literal["json", "csv"], Query(description="csv: a file download")]


@router.get(
    "/v1/usage",
    summary="The caller's usage and cost by day, provider or model",
    response_model=UsageReport,
    responses=CSV_ANSWER,
)
async def usage(
    caller: UsageCaller,
    request: Request,
    replies: Replies,
    start: Start = None,
    end: End = None,
    group_by: Annotated[str, Query(description="day, provider and/or model")] = "day",
    format: Format = "json",
) -> UsageReport | Response:
    allowed = tuple(d for d in get_args(ReportDimension) if d != "user")
    payload = report_payload(start, end, dimensions(group_by, allowed))
    result = await ask_analytics(replies, caller, request, payload)
    return respond(payload, result, format, "usage")


@router.get("/v1/usage/summary", summary="This month: spend, tokens and remaining budget")
async def usage_summary(caller: UsageCaller, request: Request, replies: Replies) -> UsageSummary:
    payload = UsageReportQueryPayload(kind="summary")
    summary = (await ask_analytics(replies, caller, request, payload)).summary
    if summary is None:
        raise Problem(502, "bad-reply", "Bad reply", "analytics sent no summary")
    return summary


@router.get(
    "/v1/admin/usage",
    tags=["administration"],
    summary="Every user's usage; grouped by user, the top spenders come first",
    response_model=UsageReport,
    responses=CSV_ANSWER,
)
async def all_usage(
    admin: AdminCaller,
    request: Request,
    replies: Replies,
    start: Start = None,
    end: End = None,
    group_by: Annotated[str, Query(description="user, day, provider and/or model")] = "user",
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
    format: Format = "json",
) -> UsageReport | Response:
    chosen = dimensions(group_by, get_args(ReportDimension))
    payload = report_payload(start, end, chosen, all_users=True, limit=limit)
    result = await ask_analytics(replies, admin, request, payload)
    return respond(payload, result, format, "usage-all")
