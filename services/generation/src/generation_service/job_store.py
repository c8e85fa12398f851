"""A generation job's database work, in two statements (`sql/`): the claim, which also reads
what answering needs (the conversation's owner and history, the user's keys for the chain's
providers), and the conclusion, which ends the job and stores everything its outcome writes.
Each is one round trip, sent straight to the driver: no session, no BEGIN, no COMMIT."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from assistant_db import Statements
from assistant_messaging.publishing.outbox import Outbox, outbox_row
from assistant_schemas import Envelope
from assistant_schemas.generation import ChatMessage

SQL = Path(__file__).parent / "sql"
CLAIM_JOB = (SQL / "claim_job.sql").read_text()
CONCLUDE_JOB = (SQL / "conclude_job.sql").read_text()
HISTORY = TypeAdapter(list[ChatMessage])

Connect = Callable[[], Awaitable[Statements]]  # the driver pool (a connection, in tests)


class Claim(Enum):
    NEW = "new"  # ours to answer
    TAKEN_OVER = "taken_over"  # its instance died, or an attempt of ours failed: ours now
    FINISHED = "finished"  # answered before: a duplicate
    BUSY = "busy"  # another live instance is answering it


@dataclass(frozen=True)
class StoredCredential:
    """A user's own key for a provider: the gateway's ciphertext, decrypted only to call."""

    ciphertext: str
    base_url: str | None


@dataclass(frozen=True)
class Claimed:
    claim: Claim
    owner: uuid.UUID | None  # of the conversation; None for a new one
    history: list[ChatMessage]  # the conversation's messages, if the user's
    credentials: dict[str, StoredCredential]  # the user's, by provider


@dataclass(frozen=True)
class Conclusion:
    """What an outcome writes. `turn` is empty for a failure: nothing stored but the job's end
    and the events."""

    request_id: uuid.UUID
    user_id: uuid.UUID
    conversation_id: uuid.UUID
    succeeded: bool
    title: str
    provider: str
    model: str
    system_prompt: str | None
    turn: list[dict[str, Any]]  # message rows, as `jsonb_to_recordset` in the SQL reads them
    prompt: str
    answer: str
    history_metadata: dict[str, Any]
    events: Sequence[Envelope[Any]]
    always: Sequence[bool]  # for each event: staged even if the job is no longer ours


class JobStore:
    def __init__(self, connect: Connect) -> None:
        self._connect = connect

    async def claim(
        self,
        *,
        request_id: uuid.UUID,
        event_id: uuid.UUID,
        user_id: uuid.UUID,
        worker: str,
        stale_after: timedelta,
        conversation_id: uuid.UUID,
        providers: list[str],
    ) -> Claimed:
        statements = await self._connect()
        row = await statements.fetchrow(
            CLAIM_JOB,
            request_id,
            event_id,
            user_id,
            worker,
            stale_after,
            conversation_id,
            providers,
        )
        assert row is not None  # the statement always answers one row
        keys = json.loads(row["credentials"])
        return Claimed(
            claim=Claim(row["claim"]),
            owner=row["owner"],
            history=HISTORY.validate_json(row["history"]),
            credentials={name: StoredCredential(**key) for name, key in keys.items()},
        )

    async def conclude(self, worker: str, outcome: Conclusion) -> bool:
        """Stores the outcome; False if another instance owns the job now (then only the
        events marked `always` are staged)."""
        statements = await self._connect()
        owned = await statements.fetchval(
            CONCLUDE_JOB,
            outcome.request_id,
            worker,
            outcome.succeeded,
            outcome.user_id,
            outcome.conversation_id,
            outcome.title,
            outcome.provider,
            outcome.model,
            outcome.system_prompt,
            bool(outcome.turn),
            json.dumps(outcome.turn, default=str),  # ids and times as text
            outcome.prompt,
            outcome.answer,
            json.dumps(outcome.history_metadata),
            list(outcome.always),
            *Outbox.arrays([outbox_row(event) for event in outcome.events]),
        )
        return bool(owned)
