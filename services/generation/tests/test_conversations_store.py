"""A stored turn is read back column by column: the answer keeps its provider, model, usage
and timings (they were once all NULL: a multi-row insert takes its columns from the first
row, a prompt message without them)."""

import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from assistant_schemas.common import TokenUsage
from assistant_schemas.generation import ChatMessage
from generation_service.conversations import Conversations, Turn
from generation_service.models import conversations, messages

pytestmark = pytest.mark.stack
CITATIONS = [{"document_id": str(uuid.uuid4()), "chunk_id": str(uuid.uuid4()), "section": "Ops"}]


async def test_every_column_of_a_stored_turn_reads_back(connection: AsyncConnection) -> None:
    session = AsyncSession(bind=connection, join_transaction_mode="create_savepoint")
    user, conversation, request, answer = (uuid.uuid4() for _ in range(4))
    turn = Turn(
        request_id=request,
        prompt=[ChatMessage(role="user", content="Name a queue.")],
        answer="Kafka.",
        provider="openai",
        model="gpt-4o-mini",
        usage=TokenUsage(input_tokens=12, output_tokens=3, cached_tokens=4),
        latency_ms=812.5,
        ttft_ms=190.25,
        metadata={"finish_reason": "stop", "fallbacks": 0, "citations": CITATIONS},
    )

    await Conversations(session, user).record(conversation, turn, "Be brief.", answer_id=answer)

    rows = (
        await session.execute(
            select(messages)
            .where(messages.c.conversation_id == conversation)
            .order_by(messages.c.created_at)
        )
    ).all()
    prompt, stored = (row._mapping for row in rows)
    assert (prompt["role"], prompt["content"], prompt["request_id"]) == (
        "user",
        "Name a queue.",
        request,
    )
    assert prompt["provider"] is None
    assert prompt["metadata"] == {}
    assert {name: stored[name] for name in stored if name != "created_at"} == {
        "id": answer,
        "conversation_id": conversation,
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
        "metadata": {"finish_reason": "stop", "fallbacks": 0, "citations": CITATIONS},
    }
    assert stored["created_at"] > prompt["created_at"]
    conversation_row = (
        (await session.execute(select(conversations).where(conversations.c.id == conversation)))
        .one()
        ._mapping
    )
    assert {k: conversation_row[k] for k in conversation_row if not k.endswith("_at")} == {
        "id": conversation,
        "user_id": user,
        "title": "Name a queue.",
        "provider": "openai",
        "model": "gpt-4o-mini",
        "system_prompt": "Be brief.",
    }
    assert conversation_row["created_at"] <= conversation_row["updated_at"]
