"""A job's two statements against the real PostgreSQL: the claim (who answers, and what
answering needs), and the conclusion, whose every written column is read back."""

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from assistant_db.engine import driver_connection
from assistant_schemas import new_event
from assistant_schemas.common import TokenUsage
from assistant_schemas.generation import ChatMessage
from assistant_schemas.usage import UsageRecordedPayload, UsageRecordedV1
from generation_service import credentials, job_claims
from generation_service.conversations import Turn, message_rows
from generation_service.job_store import Claim, Claimed, Conclusion, JobStore, StoredCredential
from generation_service.models import generation_jobs

pytestmark = pytest.mark.stack
STALE = timedelta(seconds=6)
MESSAGES_OF = "SELECT * FROM generation.messages WHERE request_id = :r ORDER BY created_at"
CITATIONS = [{"document_id": str(uuid.uuid4()), "chunk_id": str(uuid.uuid4()), "section": "Ops"}]


@pytest.fixture
def session(connection: AsyncConnection) -> AsyncSession:
    return AsyncSession(bind=connection, join_transaction_mode="create_savepoint")


@pytest.fixture
def store(connection: AsyncConnection) -> JobStore:
    async def in_the_tests_transaction() -> Any:
        return await driver_connection(connection)

    return JobStore(in_the_tests_transaction)


async def claim(
    store: JobStore,
    request_id: uuid.UUID,
    worker: str,
    *,
    user_id: uuid.UUID | None = None,
    conversation_id: uuid.UUID | None = None,
    providers: list[str] | None = None,
) -> Claimed:
    return await store.claim(
        request_id=request_id,
        event_id=uuid.uuid4(),
        user_id=user_id or uuid.uuid4(),
        worker=worker,
        stale_after=STALE,
        conversation_id=conversation_id or request_id,
        providers=providers or ["openai"],
    )


async def test_an_attempt_left_behind_is_taken_over_by_its_own_instance_at_once(
    store: JobStore,
) -> None:
    request = uuid.uuid4()
    assert (await claim(store, request, "generation-a")).claim is Claim.NEW
    # The attempt failed (a database error while concluding); the request comes back.
    assert (await claim(store, request, "generation-a")).claim is Claim.TAKEN_OVER
    assert (await claim(store, request, "generation-b")).claim is Claim.BUSY, "fresh for others"


async def test_only_jobs_being_answered_are_kept_alive(
    store: JobStore, session: AsyncSession
) -> None:
    answering, left_behind = uuid.uuid4(), uuid.uuid4()
    for request in (answering, left_behind):
        await claim(store, request, "generation-a")
    an_hour_ago = {"heartbeat_at": generation_jobs.c.heartbeat_at - timedelta(hours=1)}
    await session.execute(
        update(generation_jobs)
        .where(generation_jobs.c.request_id.in_([answering, left_behind]))
        .values(**an_hour_ago)
    )

    await job_claims.beat(session, "generation-a", [answering])

    assert (await claim(store, answering, "generation-b")).claim is Claim.BUSY
    assert (await claim(store, left_behind, "generation-b")).claim is Claim.TAKEN_OVER
    [attempts] = (
        await session.execute(
            select(generation_jobs.c.attempts).where(generation_jobs.c.request_id == left_behind)
        )
    ).one()
    assert attempts == 2


async def test_a_dead_lettered_job_ends_failed_once(store: JobStore, session: AsyncSession) -> None:
    running, never_claimed, finished = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await claim(store, running, "generation-a")
    await claim(store, finished, "generation-a")
    assert await store.conclude("generation-a", failure(finished))

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
    assert statuses[running] == statuses[never_claimed] == statuses[finished] == "failed"
    assert (await claim(store, running, "generation-b")).claim is Claim.FINISHED, "never again"


async def test_the_claim_reads_the_users_conversation_and_keys_for_the_chain(
    store: JobStore, session: AsyncSession
) -> None:
    user, other = uuid.uuid4(), uuid.uuid4()
    first = uuid.uuid4()
    await claim(store, first, "generation-a", user_id=user)
    assert await store.conclude("generation-a", completed(first, user, "Name a queue.", "Kafka."))
    for provider, key in (("openai", "ct-openai"), ("anthropic", "ct-anthropic")):
        await credentials.put(session, user, provider, key, None, None)
    await credentials.put(session, user, "deepseek", "ct-deepseek", "https://ds.example", None)
    await session.flush()

    chain = ["deepseek", "openai"]
    mine = await claim(
        store, uuid.uuid4(), "generation-a", user_id=user, conversation_id=first, providers=chain
    )
    theirs = await claim(
        store, uuid.uuid4(), "generation-a", user_id=other, conversation_id=first, providers=chain
    )

    assert mine.claim is theirs.claim is Claim.NEW
    assert mine.owner == theirs.owner == user
    assert mine.history == [
        ChatMessage(role="user", content="Name a queue."),
        ChatMessage(role="assistant", content="Kafka."),
    ]
    assert theirs.history == [], "another user's conversation is never read"
    assert mine.credentials == {
        "openai": StoredCredential("ct-openai", None),
        "deepseek": StoredCredential("ct-deepseek", "https://ds.example"),
    }
    assert theirs.credentials == {}


async def test_every_column_a_conclusion_writes_is_read_back(
    store: JobStore, connection: AsyncConnection
) -> None:
    outcome = await claimed_answer(store)
    user, request = outcome.user_id, outcome.request_id

    assert await store.conclude("generation-a", outcome)

    prompt, answer = await rows(connection, MESSAGES_OF, request)
    assert {k: v for k, v in prompt.items() if k not in ("id", "created_at")} == {
        "conversation_id": request,
        "request_id": request,
        "role": "user",
        "content": "Name a queue.",
        "provider": None,
        "model": None,
        "input_tokens": None,
        "output_tokens": None,
        "cached_tokens": None,
        "latency_ms": None,
        "ttft_ms": None,
        "metadata": {},
    }
    assert {k: v for k, v in answer.items() if k != "created_at"} == {
        "id": outcome.turn[-1]["id"],
        "conversation_id": request,
        "request_id": request,
        "role": "assistant",
        "content": "Kafka.",
        "provider": "openai",
        "model": "gpt-4o-mini",
        "input_tokens": 12,
        "output_tokens": 3,
        "cached_tokens": 4,
        "latency_ms": 812.5,
        "ttft_ms": 190.25,
        "metadata": {"finish_reason": "stop", "fallbacks": [], "citations": CITATIONS},
    }
    assert answer["created_at"] > prompt["created_at"]
    [conversation] = await rows(
        connection, "SELECT * FROM generation.conversations WHERE id = :r", request
    )
    assert {k: v for k, v in conversation.items() if not k.endswith("_at")} == {
        "id": request,
        "user_id": user,
        "title": "Name a queue.",
        "provider": "openai",
        "model": "gpt-4o-mini",
        "system_prompt": "Be brief.",
    }
    [history] = await rows(
        connection, "SELECT * FROM generation.content_history WHERE id = :r", request
    )
    assert {k: v for k, v in history.items() if k != "created_at"} == {
        "id": request,
        "user_id": user,
        "conversation_id": request,
        "provider": "openai",
        "model": "gpt-4o-mini",
        "prompt": "Name a queue.",
        "generated_content": "Kafka.",
        "notion_page_id": None,
        "notion_url": None,
        "metadata": {"citations": CITATIONS, "usage": {"input_tokens": 12}},
        # for search: Portuguese stems, then English ones
        "words": "'kafk':4 'kafka':8 'nam':1 'name':5 'queu':3 'queue':7",
    }
    [job] = await rows(
        connection, "SELECT * FROM generation.generation_jobs WHERE request_id = :r", request
    )
    assert (job["status"], job["worker"], job["user_id"]) == ("succeeded", "generation-a", user)
    assert job["finished_at"] is not None
    staged = await rows(
        connection,
        "SELECT event_id, topic FROM generation.outbox WHERE event_id = ANY(:ids) ORDER BY id",
        [event.event_id for event in outcome.events],
    )
    assert [(row["event_id"], row["topic"]) for row in staged] == [
        (event.event_id, "usage.recorded") for event in outcome.events
    ]


async def test_a_conclusion_for_a_job_taken_over_stores_only_the_billed_usage(
    store: JobStore, connection: AsyncConnection
) -> None:
    outcome = await claimed_answer(store)
    request = outcome.request_id
    events = [*outcome.events, usage_event(request, outcome.user_id)]
    lost = Conclusion(**{**outcome.__dict__, "events": events, "always": [True, False]})

    assert not await store.conclude("generation-b", lost)  # not its job

    assert await rows(connection, MESSAGES_OF, request) == []
    assert (
        await rows(connection, "SELECT 1 FROM generation.conversations WHERE id = :r", request)
        == []
    )
    assert (
        await rows(connection, "SELECT 1 FROM generation.content_history WHERE id = :r", request)
        == []
    )
    staged = await rows(
        connection,
        "SELECT event_id FROM generation.outbox WHERE event_id = ANY(:ids)",
        [event.event_id for event in events],
    )
    assert [row["event_id"] for row in staged] == [events[0].event_id]


async def claimed_answer(store: JobStore) -> Conclusion:
    """A new job claimed by generation-a, and the answer it would conclude with."""
    user, request = uuid.uuid4(), uuid.uuid4()
    await claim(store, request, "generation-a", user_id=user)
    return completed(request, user, "Name a queue.", "Kafka.")


def completed(request: uuid.UUID, user: uuid.UUID, question: str, reply: str) -> Conclusion:
    turn = Turn(
        prompt=[ChatMessage(role="user", content=question)],
        answer=reply,
        provider="openai",
        model="gpt-4o-mini",
        usage=TokenUsage(input_tokens=12, output_tokens=3, cached_tokens=4),
        latency_ms=812.5,
        ttft_ms=190.25,
        metadata={"finish_reason": "stop", "fallbacks": [], "citations": CITATIONS},
    )
    return Conclusion(
        request_id=request,
        user_id=user,
        conversation_id=request,
        succeeded=True,
        title=question,
        provider="openai",
        model="gpt-4o-mini",
        system_prompt="Be brief.",
        turn=message_rows(turn, uuid.uuid4()),
        prompt=question,
        answer=reply,
        history_metadata={"citations": CITATIONS, "usage": {"input_tokens": 12}},
        events=[usage_event(request, user)],
        always=[True],
    )


def failure(request: uuid.UUID) -> Conclusion:
    return Conclusion(
        request_id=request,
        user_id=uuid.uuid4(),
        conversation_id=request,
        succeeded=False,
        title="",
        provider="openai",
        model="gpt-4o-mini",
        system_prompt=None,
        turn=[],
        prompt="",
        answer="",
        history_metadata={},
        events=[],
        always=[],
    )


def usage_event(request: uuid.UUID, user: uuid.UUID) -> UsageRecordedV1:
    payload = UsageRecordedPayload(
        request_id=request, usage_type="llm", provider="openai", model="gpt-4o-mini", api_calls=1
    )
    return new_event(UsageRecordedV1, payload, correlation_id="c", producer="test", user_id=user)


async def rows(connection: AsyncConnection, sql: str, value: object) -> list[dict[str, Any]]:
    parameter = "ids" if ":ids" in sql else "r"
    found = await connection.execute(text(sql), {parameter: value})
    return [dict(row._mapping) for row in found]
