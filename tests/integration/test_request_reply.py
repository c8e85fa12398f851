"""Request/reply over the real broker: every answer reaches the instance that asked."""

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from prometheus_client import REGISTRY

from assistant_messaging.publishing.producer import DurableProducer
from assistant_messaging.request_reply.requester import ReplyTimeout, Requester
from assistant_messaging.request_reply.responder import Responder
from assistant_schemas import new_event
from assistant_schemas.queries import (
    DocumentsQueryPayload,
    DocumentsQueryV1,
    DocumentsResultPayload,
    DocumentsResultV1,
    QueryFailedV1,
    SearchHit,
    SearchQueryPayload,
    SearchQueryV1,
    SearchResultPayload,
    SearchResultV1,
)


def search(text: str) -> SearchQueryV1:
    return new_event(
        SearchQueryV1,
        SearchQueryPayload(query=text),
        correlation_id=text,
        producer="tests",
        user_id=uuid.uuid4(),
    )


def documents() -> DocumentsQueryV1:
    return new_event(
        DocumentsQueryV1,
        DocumentsQueryPayload(action="list"),
        correlation_id="documents",
        producer="tests",
        user_id=uuid.uuid4(),
    )


class EchoResponder:
    """A worker instance answering search queries with the query text and its own name, and
    document listings with nothing (counted)."""

    def __init__(self, name: str, bootstrap: str, group: str) -> None:
        self.name = name
        self.answered = 0
        self.listed = 0
        self.answering = asyncio.Event()
        self.producer = DurableProducer(bootstrap, client_id=name, linger_ms=0)
        self.responder = Responder(group, self.producer, bootstrap_servers=bootstrap)
        self.responder.serve(SearchQueryV1, self.answer)
        self.responder.serve(DocumentsQueryV1, self.list_documents)

    async def list_documents(self, query: DocumentsQueryV1) -> DocumentsResultV1:
        self.listed += 1
        return new_event(
            DocumentsResultV1,
            DocumentsResultPayload(documents=[]),
            correlation_id=query.correlation_id,
            producer=self.name,
            user_id=query.user_id,
        )

    async def answer(self, query: SearchQueryV1) -> SearchResultV1 | QueryFailedV1:
        self.answered += 1
        self.answering.set()
        if query.payload.query == "explode":
            raise ValueError("cannot search for that")
        if query.payload.query == "slow":
            await asyncio.sleep(1)
        hit = SearchHit(
            document_id=uuid.uuid4(),
            chunk_id=uuid.uuid4(),
            text=f"{query.payload.query} by {self.name}",
            score=1.0,
        )
        return new_event(
            SearchResultV1,
            SearchResultPayload(hits=[hit]),
            correlation_id=query.correlation_id,
            producer=self.name,
            user_id=query.user_id,
        )

    async def start(self) -> None:
        await self.producer.start()
        await self.responder.start()

    async def stop(self) -> None:
        await self.responder.stop()
        await self.producer.stop()


async def started_requester(bootstrap: str, partition: int) -> Requester:
    producer = DurableProducer(bootstrap, client_id=f"requester-{partition}", linger_ms=0)
    await producer.start()
    requester = Requester(bootstrap_servers=bootstrap, producer=producer, partition=partition)
    await requester.start()
    return requester


@pytest.fixture
async def responders(bootstrap: str) -> AsyncIterator[list[EchoResponder]]:
    group = f"rr_{uuid.uuid4().hex[:8]}"  # both instances share one consumer group
    pair = [EchoResponder(f"worker-{i}", bootstrap, group) for i in range(2)]
    for responder in pair:
        await responder.start()
    await asyncio.sleep(3)  # let the group settle so both instances hold partitions
    yield pair
    for responder in pair:
        await responder.stop()


async def test_every_reply_reaches_the_requester_that_asked(
    bootstrap: str, responders: list[EchoResponder]
) -> None:
    # Two gateway-like requesters; the third shares a partition with the first on purpose.
    requesters = [await started_requester(bootstrap, p) for p in (3, 7, 3)]
    try:
        asks = [
            (index, f"r{index}-q{n}", requester)
            for index, requester in enumerate(requesters)
            for n in range(40)
        ]
        replies = await asyncio.gather(
            *(requester.ask(search(text), timeout=20) for _, text, requester in asks)
        )
    finally:
        for requester in requesters:
            await requester.stop()

    for (_, text, _), reply in zip(asks, replies, strict=True):
        assert isinstance(reply, SearchResultV1)
        assert reply.payload.hits[0].text.startswith(f"{text} by worker-")
    assert sum(r.answered for r in responders) == len(asks), "each query answered once"
    assert all(r.answered > 0 for r in responders), "both worker instances served queries"


async def test_instances_serving_two_query_topics_each_read_part_of_both(
    bootstrap: str, responders: list[EchoResponder]
) -> None:
    requester = await started_requester(bootstrap, 5)
    try:
        listings = await asyncio.gather(
            *(requester.ask(documents(), timeout=10) for _ in range(40))
        )
    finally:
        await requester.stop()
    assert all(isinstance(listing, DocumentsResultV1) for listing in listings)
    assert all(r.listed > 0 for r in responders), "both worker instances listed documents"


async def test_a_failing_handler_answers_with_a_failure_instead_of_silence(
    bootstrap: str, responders: list[EchoResponder]
) -> None:
    requester = await started_requester(bootstrap, 11)
    try:
        reply = await requester.ask(search("explode"), timeout=20)
    finally:
        await requester.stop()
    assert isinstance(reply, QueryFailedV1)
    assert reply.payload.status == 500
    assert "cannot search for that" not in reply.payload.reason, "internals stay in the log"
    assert "failed to answer; the error is in its log" in reply.payload.reason
    service = responders[0].responder.service
    assert await counted(service, "failed") == 1  # and on /metrics, by outcome
    assert answered_count(service, "answered") == 0


def answered_count(service: str, outcome: str) -> float:
    labels = {"service": service, "topic": "search.query", "outcome": outcome}
    return REGISTRY.get_sample_value("queries_answered_total", labels) or 0.0


async def counted(service: str, outcome: str) -> float:
    """The count once it is there: a reply can arrive before its sender has counted it."""
    for _ in range(100):
        if count := answered_count(service, outcome):
            return count
        await asyncio.sleep(0.05)
    return 0.0


async def test_a_stopping_responder_sends_the_answers_in_flight_first(
    bootstrap: str, responders: list[EchoResponder]
) -> None:
    requester = await started_requester(bootstrap, 13)
    try:
        asking = asyncio.create_task(requester.ask(search("slow"), timeout=5))
        answering = [asyncio.create_task(r.answering.wait()) for r in responders]
        await asyncio.wait(answering, return_when=asyncio.FIRST_COMPLETED)
        for waiting in answering:
            waiting.cancel()
        for responder in responders:  # as a service stops: queries, then its producer
            await responder.stop()
        reply = await asking
    finally:
        await requester.stop()
    assert isinstance(reply, SearchResultV1)
    assert reply.payload.hits[0].text.startswith("slow by worker-")


async def test_a_query_topic_named_after_start_is_refused(responders: list[EchoResponder]) -> None:
    with pytest.raises(RuntimeError, match="call serve\\(\\) before it"):
        responders[0].responder.serve(DocumentsQueryV1, responders[0].answer)


async def test_no_responder_gives_a_clear_timeout(bootstrap: str) -> None:
    requester = await started_requester(bootstrap, 12)
    try:
        # No search responder runs during this test (the ingestion service is not started).
        with pytest.raises(ReplyTimeout, match=r"no reply to request .* within 1s"):
            await requester.ask(search("anyone?"), timeout=1)
    finally:
        await requester.stop()
