"""Answering `generation.requested`: claim the job, call the provider chain, stream, record.

A request is claimed in the jobs table before any provider is called, so a redelivered request
is never answered twice; the claim's statement also reads the conversation and the user's keys.
The outcome — the stored turn, `generation.completed` or `generation.failed`, and one
`usage.recorded` per billed provider call — is one statement with the job's end
(`job_store`); the final reply to a waiting gateway goes after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import structlog
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from assistant_db.errors import database_unavailable
from assistant_messaging.consuming.failures import PermanentFailure, RetryLater
from assistant_messaging.consuming.log_limits import ThrottledLog
from assistant_messaging.kafka import headers as h
from assistant_messaging.publishing.outbox import Outbox
from assistant_messaging.request_reply.responder import Responder
from assistant_runtime.credentials_cipher import CredentialCipher
from assistant_schemas import Envelope, new_event
from assistant_schemas.catalog import ProviderInfo
from assistant_schemas.envelope import EventT
from assistant_schemas.generation import (
    ChatMessage,
    GenerationCompletedPayload,
    GenerationCompletedV1,
    GenerationFailedPayload,
    GenerationFailedV1,
    GenerationRequestedPayload,
    GenerationRequestedV1,
)
from assistant_schemas.notion import save_request_id
from assistant_schemas.queries import SearchHit
from assistant_schemas.usage import UsageRecordedPayload, UsageRecordedV1
from generation_service import job_claims, notion_saves, retrieval
from generation_service.answering import Answer, Answerer, BilledCall, Progress, Prompt
from generation_service.catalog import CatalogCache
from generation_service.conversations import Turn, message_rows, title_from
from generation_service.job_store import Claim, Claimed, Conclusion, JobStore
from generation_service.providers.base import ProviderError
from generation_service.reply_stream import ChunkStream
from generation_service.retrieval import Retriever
from generation_service.settings import GenerationSettings

log = structlog.get_logger(__name__)
storm_log = ThrottledLog(__name__)  # an outage repeats it for every job


@dataclass(frozen=True)
class Job:
    event: GenerationRequestedV1
    headers: Mapping[str, str]
    user_id: uuid.UUID
    sources: tuple[SearchHit, ...] = ()  # retrieved for `rag`

    @property
    def request(self) -> GenerationRequestedPayload:
        return self.event.payload

    @property
    def conversation_id(self) -> uuid.UUID:
        return self.request.conversation_id or self.request.request_id

    @property
    def waited_for(self) -> bool:
        """A gateway instance waits for the outcome (a stream or a synchronous call)."""
        return h.REPLY_TOPIC in self.headers

    def system_prompt(self) -> str | None:
        """The request's system prompt and any system messages, in order, as one prompt."""
        parts = [self.request.system_prompt or ""]
        parts += [m.content for m in self.request.messages if m.role == "system"]
        return "\n\n".join(part for part in parts if part) or None

    def grounded_system_prompt(self) -> str | None:
        """The system prompt the model sees: with the retrieved sources when `rag` asked."""
        if self.request.rag is None:
            return self.system_prompt()
        parts = [self.system_prompt() or "", retrieval.grounding(list(self.sources))]
        return "\n\n".join(part for part in parts if part)

    def turn(self) -> list[ChatMessage]:
        return [m for m in self.request.messages if m.role != "system"]

    def chain(self) -> list[tuple[str, str]]:
        return [(self.request.provider, self.request.model), *self.request.fallbacks]

    def follow_up(self, contract: type[EventT], payload: BaseModel) -> EventT:
        """An event this request caused: its correlation id, its user."""
        return new_event(
            contract,
            payload,
            correlation_id=self.event.correlation_id,
            producer="generation",
            user_id=self.user_id,
        )


class GenerationWorker:
    def __init__(
        self,
        *,
        settings: GenerationSettings,
        sessions: async_sessionmaker[AsyncSession],
        jobs: JobStore,
        outbox: Outbox,
        responder: Responder,
        answerer: Answerer,
        catalog: CatalogCache,
        retriever: Retriever,
        worker_id: str,
    ) -> None:
        self._settings = settings
        self._sessions = sessions
        self._jobs = jobs
        self._outbox = outbox
        self._responder = responder
        self._answerer = answerer
        self._catalog = catalog
        self._retriever = retriever
        self._worker_id = worker_id
        keys = settings.credentials_keys
        self._cipher = CredentialCipher(keys.get_secret_value()) if keys else None
        self._running: dict[uuid.UUID, tuple[uuid.UUID, asyncio.Task[Answer]]] = {}
        self._answering: set[uuid.UUID] = set()  # requests this instance is working on now
        self._cancelled: set[uuid.UUID] = set()
        self._heartbeat: asyncio.Task[None] | None = None

    # --- lifecycle: the heartbeat of this instance's running jobs ---------------------------

    async def start(self) -> None:
        self._heartbeat = asyncio.create_task(self._beat(), name="job-heartbeat")

    async def stop(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self._settings.heartbeat_s)
            if not self._answering:
                continue
            try:
                async with self._sessions() as session, session.begin():
                    await job_claims.beat(session, self._worker_id, list(self._answering))
            except Exception as error:
                log.warning("job heartbeat failed", error=repr(error))

    # --- cancellation -------------------------------------------------------------------------

    def cancel(self, request_id: uuid.UUID, user_id: uuid.UUID | None) -> bool:
        """Stops the provider call of a request running here, if it is the user's."""
        found = self._running.get(request_id)
        if found is None or found[0] != user_id:
            return False
        self._cancelled.add(request_id)
        found[1].cancel()
        return True

    # --- the job --------------------------------------------------------------------------------

    async def handle(self, event: GenerationRequestedV1, headers: Mapping[str, str]) -> None:
        if event.user_id is None:
            raise PermanentFailure("generation.requested names no user_id")
        job = Job(event, headers, event.user_id)
        request_id = job.request.request_id
        with structlog.contextvars.bound_contextvars(
            request_id=str(request_id), correlation_id=event.correlation_id
        ):
            if request_id in self._answering:  # a second copy: after the first one's end
                raise RetryLater("a copy of this request is being answered here")
            self._answering.add(request_id)
            try:
                await self._handle(job)
            finally:
                self._answering.discard(request_id)

    async def _handle(self, job: Job) -> None:
        claimed = await self._claim(job)
        if claimed.claim is Claim.FINISHED:
            return
        if claimed.claim is Claim.TAKEN_OVER and job.request.stream:
            # The client saw part of a stream from the instance that died; starting over
            # would splice two different answers. Tell it plainly instead.
            lost = ProviderError(
                "worker_lost",
                "the instance answering this request stopped mid-answer; send it again",
                retryable=True,
            )
            await self._conclude(job, Answer(*job.chain()[0], error=lost))
            return
        if job.request.rag is not None:
            try:
                job = await self._grounded(job)
            except ProviderError as error:
                await self._conclude(job, Answer(*job.chain()[0], error=error))
                return
        await self._conclude(job, await self._answer(job, claimed))

    async def _grounded(self, job: Job) -> Job:
        assert job.request.rag is not None
        found = await self._retriever.sources(
            job.user_id, job.turn()[-1].content, job.request.rag, job.event.correlation_id
        )
        return replace(job, sources=tuple(found))

    async def _claim(self, job: Job) -> Claimed:
        stale_after = timedelta(seconds=3 * self._settings.heartbeat_s)
        while True:
            claimed = await self._jobs.claim(
                request_id=job.request.request_id,
                event_id=job.event.event_id,
                user_id=job.user_id,
                worker=self._worker_id,
                stale_after=stale_after,
                conversation_id=job.conversation_id,
                providers=sorted({provider for provider, _ in job.chain()}),
            )
            if claimed.claim is not Claim.BUSY:
                return claimed
            await asyncio.sleep(self._settings.heartbeat_s)  # its instance may yet finish

    async def _answer(self, job: Job, claimed: Claimed) -> Answer:
        catalog = await self._catalog.get()
        if claimed.owner is not None and claimed.owner != job.user_id:
            missing = ProviderError(
                "conversation_not_found",
                f"conversation {job.conversation_id} does not exist or is not yours",
                retryable=False,
            )
            return Answer(*job.chain()[0], error=missing)
        chunks = self._chunk_stream(job)
        prompt = Prompt(
            claimed.history, job.turn(), job.grounded_system_prompt(), job.request.parameters
        )
        loop = asyncio.get_running_loop()
        progress = Progress(job.request.provider, job.request.model, loop.time())

        async def on_delta(text: str) -> None:
            if chunks is not None:
                await chunks.delta(text)

        async def key_for(provider: ProviderInfo) -> tuple[str | None, str | None]:
            return self._key_for(claimed, provider)

        call = asyncio.create_task(
            self._answerer.answer(job.chain(), prompt, catalog, key_for, on_delta, progress)
        )
        request_id = job.request.request_id
        self._running[request_id] = (job.user_id, call)
        try:
            answer = await call
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if request_id not in self._cancelled or (current and current.cancelling()):
                call.cancel()
                raise
            answer = _cancelled(progress)
        finally:
            self._running.pop(request_id, None)
            self._cancelled.discard(request_id)
        if chunks is not None:
            await chunks.close(completed=answer.error is None)
        return answer

    def _chunk_stream(self, job: Job) -> ChunkStream | None:
        if not (job.request.stream and job.waited_for):
            return None
        return ChunkStream(
            self._responder,
            job.headers,
            str(job.event.event_id),
            job.request.request_id,
            job.event.correlation_id,
            job.user_id,
            self._settings.stream_first_window_ms / 1000,
            self._settings.stream_longest_window_ms / 1000,
        )

    def _key_for(self, claimed: Claimed, provider: ProviderInfo) -> tuple[str | None, str | None]:
        """(API key, base URL override): the user's own credential first, then the server's."""
        stored = claimed.credentials.get(provider.name)
        if stored is not None and self._cipher is not None:
            try:
                return self._cipher.decrypt(stored.ciphertext), stored.base_url
            except ValueError:
                log.error("a stored credential does not decrypt: check CREDENTIALS_KEYS")
        return self._settings.server_key(provider.name), None

    # --- the outcome --------------------------------------------------------------------------

    async def _conclude(self, job: Job, answer: Answer) -> None:
        """Stores the outcome; while the database is unreachable, tries again for up to
        `conclude_patience_s` rather than answering the request twice."""
        outcome = self._outcome_event(job, answer)
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + self._settings.conclude_patience_s
        delay = 0.5
        while True:
            try:
                owned = await self._store_outcome(job, answer, outcome)
                break
            except Exception as error:
                if not database_unavailable(error) or loop.time() + delay > give_up_at:
                    raise
                storm_log.warning(
                    "database unavailable while concluding; retrying", error=repr(error)
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        if owned and job.waited_for:
            with contextlib.suppress(Exception):
                await self._responder.reply(job.headers, str(job.event.event_id), outcome)

    async def _store_outcome(
        self, job: Job, answer: Answer, outcome: GenerationCompletedV1 | GenerationFailedV1
    ) -> bool:
        """The job's end, the turn, the outcome and the usage, in one statement; False if
        another instance owns the job now."""
        # Every billed call is recorded, even if this instance lost the job meanwhile: the
        # provider charged for it either way.
        usage = [self._usage_event(job, call, index) for index, call in enumerate(answer.billed)]
        ours: list[Envelope[Any]] = [outcome]
        turn: list[dict[str, Any]] = []
        metadata: dict[str, Any] = {}
        if isinstance(outcome, GenerationCompletedV1):
            ours = [*self._notion_save(job, answer), outcome]
            metadata = {
                "finish_reason": answer.finish_reason,
                "fallbacks": answer.fallbacks_used,
                "citations": [c.model_dump(mode="json") for c in outcome.payload.citations],
            }
            turn = message_rows(self._turn(job, answer, metadata), outcome.payload.message_id)
        prompt = job.turn()[-1].content if job.turn() else ""
        owned = await self._jobs.conclude(
            self._worker_id,
            Conclusion(
                request_id=job.request.request_id,
                user_id=job.user_id,
                conversation_id=job.conversation_id,
                succeeded=answer.error is None,
                title=title_from(next((m.content for m in job.turn() if m.role == "user"), "")),
                provider=answer.provider,
                model=answer.model,
                system_prompt=job.system_prompt(),
                turn=turn,
                prompt=prompt,
                answer=answer.text,
                history_metadata={**metadata, "usage": answer.usage.model_dump()},
                events=[*usage, *ours],
                always=[True] * len(usage) + [False] * len(ours),
            ),
        )
        if not owned:
            log.warning("job was taken over by another instance; outcome dropped")
        return owned

    async def abandon(
        self, event: GenerationRequestedV1, headers: Mapping[str, str], why: str
    ) -> None:
        """A request set aside for good (dead-lettered): its job ends as failed and the caller
        is told, so no status stays `accepted` and no row `running` without a worker."""
        if event.user_id is None:
            return
        job = Job(event, headers, event.user_id)
        if job.request.request_id in self._answering:
            return  # a copy is being answered here: its own outcome follows
        failed = ProviderError(
            "internal_error",
            f"the request failed on every attempt and was set aside for an operator ({why})",
            retryable=False,
        )
        answer = Answer(*job.chain()[0], error=failed)
        outcome = self._outcome_event(job, answer)
        async with self._sessions() as session, session.begin():
            ended = await job_claims.abandon(
                session,
                request_id=job.request.request_id,
                event_id=event.event_id,
                user_id=job.user_id,
            )
            if ended:
                await self._outbox.add(session, outcome)
        if ended and job.waited_for:
            with contextlib.suppress(Exception):
                await self._responder.reply(job.headers, str(job.event.event_id), outcome)

    def _outcome_event(
        self, job: Job, answer: Answer
    ) -> GenerationCompletedV1 | GenerationFailedV1:
        if answer.error is not None:
            return job.follow_up(
                GenerationFailedV1,
                GenerationFailedPayload(
                    request_id=job.request.request_id,
                    error_class=answer.error.error_class,
                    message=answer.error.message,
                    retryable=answer.error.retryable,
                ),
            )
        return job.follow_up(
            GenerationCompletedV1,
            GenerationCompletedPayload(
                request_id=job.request.request_id,
                conversation_id=job.conversation_id,
                message_id=uuid.uuid4(),
                provider=answer.provider,
                model=answer.model,
                content=answer.text,
                finish_reason=answer.finish_reason,
                usage=answer.usage,
                latency_ms=answer.latency_ms,
                ttft_ms=answer.ttft_ms,
                citations=retrieval.citations(list(job.sources)),
            ),
        )

    @staticmethod
    def _notion_save(job: Job, answer: Answer) -> list[Envelope[Any]]:
        """`notion.page.requested` for a request asked with `save_to_notion`."""
        target = job.request.save_to_notion
        if target is None:
            return []
        return [
            notion_saves.page_request(
                user_id=job.user_id,
                correlation_id=job.event.correlation_id,
                save_id=save_request_id(job.request.request_id),
                source_request_id=job.request.request_id,
                target=target,
                prompt=job.turn()[-1].content,
                content=answer.text,
                provider=answer.provider,
                model=answer.model,
            )
        ]

    def _usage_event(self, job: Job, call: BilledCall, index: int) -> UsageRecordedV1:
        return job.follow_up(
            UsageRecordedV1,
            UsageRecordedPayload(
                request_id=job.request.request_id,
                usage_type="llm",
                call_index=index,
                provider=call.provider,
                model=call.model,
                input_tokens=call.usage.input_tokens,
                output_tokens=call.usage.output_tokens,
                cached_tokens=call.usage.cached_tokens,
                reasoning_tokens=call.usage.reasoning_tokens,
                api_calls=1,
                latency_ms=call.latency_ms,
                ttft_ms=call.ttft_ms,
            ),
        )

    @staticmethod
    def _turn(job: Job, answer: Answer, metadata: dict[str, Any]) -> Turn:
        return Turn(
            prompt=job.turn(),
            answer=answer.text,
            provider=answer.provider,
            model=answer.model,
            usage=answer.usage,
            latency_ms=answer.latency_ms,
            ttft_ms=answer.ttft_ms,
            metadata=metadata,
        )


def _cancelled(progress: Progress) -> Answer:
    stopped = ProviderError(
        "cancelled", "the client went away; the provider call was stopped", retryable=True
    )
    answer = Answer(progress.provider, progress.model, text=progress.text, error=stopped)
    billed = progress.billed_so_far()
    if billed is not None:
        answer.billed.append(billed)
    return answer
