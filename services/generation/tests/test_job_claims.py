"""The jobs table against the real PostgreSQL: a row an attempt left behind is never waited on
by its own instance, goes stale for the others, and a dead-lettered job ends as failed."""

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from generation_service import job_claims
from generation_service.job_claims import Claim
from generation_service.models import generation_jobs

pytestmark = pytest.mark.stack
STALE = timedelta(seconds=6)


@pytest.fixture
def session(connection: AsyncConnection) -> AsyncSession:
    return AsyncSession(bind=connection, join_transaction_mode="create_savepoint")


async def claim(session: AsyncSession, request_id: uuid.UUID, worker: str) -> Claim:
    return await job_claims.claim(
        session,
        request_id=request_id,
        event_id=uuid.uuid4(),
        user_id=uuid.uuid4(),
        worker=worker,
        stale_after=STALE,
    )


async def test_an_attempt_left_behind_is_taken_over_by_its_own_instance_at_once(
    session: AsyncSession,
) -> None:
    request = uuid.uuid4()
    assert await claim(session, request, "generation-a") is Claim.NEW
    # The attempt failed (a database error while concluding); the request comes back.
    assert await claim(session, request, "generation-a") is Claim.TAKEN_OVER
    assert await claim(session, request, "generation-b") is Claim.BUSY, "fresh for the others"


async def test_only_jobs_being_answered_are_kept_alive(session: AsyncSession) -> None:
    answering, left_behind = uuid.uuid4(), uuid.uuid4()
    for request in (answering, left_behind):
        await claim(session, request, "generation-a")
    an_hour_ago = {"heartbeat_at": generation_jobs.c.heartbeat_at - timedelta(hours=1)}
    await session.execute(update(generation_jobs).values(**an_hour_ago))

    await job_claims.beat(session, "generation-a", [answering])

    assert await claim(session, answering, "generation-b") is Claim.BUSY
    assert await claim(session, left_behind, "generation-b") is Claim.TAKEN_OVER


async def test_a_dead_lettered_job_ends_failed_once(session: AsyncSession) -> None:
    running, never_claimed, finished = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await claim(session, running, "generation-a")
    await claim(session, finished, "generation-a")
    await job_claims.finish(session, finished, "generation-a", succeeded=True)

    ended = {
        request: await job_claims.abandon(
            session, request_id=request, event_id=uuid.uuid4(), user_id=uuid.uuid4()
        )
        for request in (running, never_claimed, finished)
    }

    assert ended == {running: True, never_claimed: True, finished: False}
    statuses = dict(
        (
            await session.execute(select(generation_jobs.c.request_id, generation_jobs.c.status))
        ).all()
    )
    assert statuses[running] == statuses[never_claimed] == "failed"
    assert statuses[finished] == "succeeded"
    assert await claim(session, running, "generation-b") is Claim.FINISHED, "never answered again"
