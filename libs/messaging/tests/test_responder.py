"""How the responder answers one query (its reading of the topics is tested against the real
broker in tests/integration/test_request_reply.py)."""

import uuid
from typing import Any

import asyncpg
from aiokafka.structs import ConsumerRecord
from sqlalchemy.exc import DBAPIError

from assistant_messaging.consuming.failures import FailureRouter, RetryPolicy
from assistant_messaging.kafka import headers as h
from assistant_messaging.request_reply.responder import Responder
from assistant_schemas import decode_event, new_event
from assistant_schemas.queries import (
    QueryFailedV1,
    SearchQueryPayload,
    SearchQueryV1,
    SearchResultPayload,
    SearchResultV1,
)


class RecordingProducer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def send_and_wait(self, topic: str, **kwargs: Any) -> None:
        self.sent.append((topic, kwargs))


def query(text: str) -> SearchQueryV1:
    return new_event(
        SearchQueryV1,
        SearchQueryPayload(query=text),
        correlation_id="c",
        producer="gateway",
        user_id=uuid.uuid4(),
    )


async def answer(q: SearchQueryV1) -> SearchResultV1:
    if q.payload.query == "fail":
        raise LookupError("index missing")
    return new_event(
        SearchResultV1,
        SearchResultPayload(hits=[]),
        correlation_id=q.correlation_id,
        producer="ingestion",
        user_id=q.user_id,
    )


REPLY_ADDRESS = {h.REPLY_TOPIC: "gateway.replies", h.REPLY_PARTITION: "5"}


async def test_an_answer_goes_to_the_partition_the_requester_named() -> None:
    producer = RecordingProducer()
    asked = query("pgvector")

    outcome = await Responder("ingestion", producer).answer(
        asked.to_json(), {**REPLY_ADDRESS, h.EVENT_ID: str(asked.event_id)}, answer
    )

    [(topic, sent)] = producer.sent
    assert outcome == "answered"
    assert (topic, sent["partition"]) == ("gateway.replies", 5)
    assert h.to_dict(sent["headers"])[h.IN_REPLY_TO] == str(asked.event_id)
    assert isinstance(decode_event(sent["value"]), SearchResultV1)


async def test_a_failing_handler_and_a_malformed_query_still_get_answers() -> None:
    producer = RecordingProducer()
    responder = Responder("ingestion", producer)

    outcomes = [
        await responder.answer(query("fail").to_json(), REPLY_ADDRESS, answer),
        await responder.answer(
            b'{"type": "search.query"}', {**REPLY_ADDRESS, h.EVENT_ID: "abc"}, answer
        ),
    ]

    failures = [decode_event(sent["value"]) for _, sent in producer.sent]
    assert outcomes == ["failed", "malformed"]
    assert all(isinstance(f, QueryFailedV1) for f in failures)
    assert [f.payload.status for f in failures] == [500, 400]
    assert "index missing" not in failures[0].payload.reason, "no internals in an answer"
    assert failures[0].payload.reason == "ingestion failed to answer; the error is in its log"
    assert h.to_dict(producer.sent[1][1]["headers"])[h.IN_REPLY_TO] == "abc"


async def test_an_answer_without_a_reply_address_is_dropped() -> None:
    producer = RecordingProducer()

    await Responder("ingestion", producer).answer(query("pgvector").to_json(), {}, answer)

    assert producer.sent == []


async def test_a_value_the_database_refuses_is_a_422_without_the_statement() -> None:
    producer = RecordingProducer()

    async def refused(_: SearchQueryV1) -> SearchResultV1:
        driver = asyncpg.exceptions.CharacterNotInRepertoireError("invalid byte sequence 0x00")
        raise DBAPIError("SELECT secret FROM chunks WHERE q = $1", {"q": "x"}, driver)

    await Responder("ingestion", producer).answer(query("x").to_json(), REPLY_ADDRESS, refused)

    [failure] = [decode_event(sent["value"]) for _, sent in producer.sent]
    assert isinstance(failure, QueryFailedV1)
    assert failure.payload.status == 422
    assert "SELECT" not in failure.payload.reason


async def test_a_query_that_cannot_be_read_is_dead_lettered_with_the_reason() -> None:
    producer = RecordingProducer()
    failures = FailureRouter("ingestion", producer, RetryPolicy())
    responder = Responder("ingestion", producer, failures=failures)
    tombstone = ConsumerRecord(
        topic="search.query",
        partition=0,
        offset=7,
        timestamp=0,
        timestamp_type=0,
        key=b"k",
        value=None,
        checksum=None,
        serialized_key_size=1,
        serialized_value_size=0,
        headers=tuple(h.to_kafka({**REPLY_ADDRESS, h.REPLY_PARTITION: "not-a-number"})),
    )

    outcome = await responder.answer(None, h.to_dict(tombstone.headers), answer, tombstone)

    assert outcome == "malformed"
    [(topic, sent)] = producer.sent  # no reply: its address cannot be read
    assert topic == "ingestion.dlq"
    assert "no value" in h.to_dict(sent["headers"])[h.ERROR]
