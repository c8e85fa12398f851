"""Who is answering which request: the `generation_jobs` rows.

A request is claimed by inserting its row. A redelivered request finds the row: finished means
a duplicate; running with a fresh heartbeat means another instance is on it (wait for it);
running with a stale heartbeat means that instance died (take it over); running in this
instance's name but not being answered here means an attempt of ours failed (a database outage
while concluding, say) and the request came back through the retry topic (take it over). Each
instance beats, with one statement, the heartbeat of the jobs it is answering now — only those:
a row an attempt left behind goes stale, so it never waits for a worker that is not working.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from enum import Enum

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from generation_service.models import generation_jobs


class Claim(Enum):
    NEW = "new"  # ours to answer
    TAKEN_OVER = "taken_over"  # its instance died; ours now
    FINISHED = "finished"  # answered before: a duplicate
    BUSY = "busy"  # another live instance is answering it


async def claim(
    session: AsyncSession,
    *,
    request_id: uuid.UUID,
    event_id: uuid.UUID,
    user_id: uuid.UUID,
    worker: str,
    stale_after: timedelta,
) -> Claim:
    if await _inserted(
        session,
        request_id=request_id,
        event_id=event_id,
        user_id=user_id,
        status="running",
        worker=worker,
    ):
        return Claim.NEW
    row = (
        await session.execute(
            select(
                generation_jobs.c.status,
                generation_jobs.c.heartbeat_at < func.statement_timestamp() - stale_after,
                generation_jobs.c.worker,
            )
            .where(generation_jobs.c.request_id == request_id)
            .with_for_update()
        )
    ).one()
    status, stale, owner = row
    if status != "running":
        return Claim.FINISHED
    if not stale and owner != worker:  # the caller is not answering it: see `beat`
        return Claim.BUSY
    await session.execute(
        update(generation_jobs)
        .where(generation_jobs.c.request_id == request_id)
        .values(
            worker=worker,
            heartbeat_at=func.statement_timestamp(),
            attempts=generation_jobs.c.attempts + 1,
        )
    )
    return Claim.TAKEN_OVER


async def finish(
    session: AsyncSession, request_id: uuid.UUID, worker: str, *, succeeded: bool
) -> bool:
    """Marks the job finished; False if this worker no longer owns it."""
    found = await session.scalar(
        update(generation_jobs)
        .where(
            generation_jobs.c.request_id == request_id,
            generation_jobs.c.worker == worker,
            generation_jobs.c.status == "running",
        )
        .values(status="succeeded" if succeeded else "failed", finished_at=func.now())
        .returning(generation_jobs.c.request_id)
    )
    return found is not None


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
