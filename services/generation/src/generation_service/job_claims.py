"""Keeping the `generation_jobs` rows true between claim and conclusion (`job_store`).

Each instance beats, with one statement, the heartbeat of the jobs it is answering now — only
those: a row an attempt left behind goes stale, so another instance's claim takes it over
instead of waiting for a worker that is not working. A request set aside for good (dead-
lettered) ends its job as failed.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from generation_service.models import generation_jobs


async def abandon(
    session: AsyncSession, *, request_id: uuid.UUID, event_id: uuid.UUID, user_id: uuid.UUID
) -> bool:
    """Ends a job that no attempt could finish as failed, or records it as such if no attempt
    claimed it; False if it had finished already (its outcome was published)."""
    if await _inserted(
        session,
        request_id=request_id,
        event_id=event_id,
        user_id=user_id,
        status="failed",
        worker="abandoned",
        finished_at=func.now(),
    ):
        return True
    ended = await session.scalar(
        update(generation_jobs)
        .where(generation_jobs.c.request_id == request_id, generation_jobs.c.status == "running")
        .values(status="failed", finished_at=func.now())
        .returning(generation_jobs.c.request_id)
    )
    return ended is not None


async def _inserted(session: AsyncSession, **values: object) -> bool:
    """Whether the job's row was inserted (False: the request has one already)."""
    inserted = await session.scalar(
        insert(generation_jobs)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["request_id"])
        .returning(generation_jobs.c.request_id)
    )
    return inserted is not None


async def beat(session: AsyncSession, worker: str, request_ids: list[uuid.UUID]) -> None:
    """Keeps alive the jobs `worker` is answering now."""
    await session.execute(
        update(generation_jobs)
        .where(
            generation_jobs.c.request_id.in_(request_ids),
            generation_jobs.c.worker == worker,
            generation_jobs.c.status == "running",
        )
        .values(heartbeat_at=func.statement_timestamp())
    )
