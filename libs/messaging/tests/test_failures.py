import time
from typing import Any

import pytest
from aiokafka.structs import ConsumerRecord

from assistant_messaging.consuming.failures import Failure, FailureRouter, Origin, RetryPolicy
from assistant_messaging.kafka import headers as h


class RecordingProducer:
    """Stands in for Kafka in unit tests: remembers what would have been sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def send_and_wait(self, topic: str, **kwargs: Any) -> None:
        self.sent.append((topic, kwargs))


def record(
    headers: dict[str, str] | None = None, topic: str = "usage.recorded"
) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        topic=topic,
        partition=2,
        offset=41,
        timestamp=0,
        timestamp_type=0,
        key=b"user",
        value=b"{}",
        checksum=None,
        serialized_key_size=4,
        serialized_value_size=2,
        headers=tuple(h.to_kafka(headers or {"event-id": "e1"})),
    )


def test_delays_grow_geometrically_up_to_the_cap() -> None:
    policy = RetryPolicy(base_delay_s=1, multiplier=4, max_delay_s=30)
    assert [policy.delay_after(n) for n in (1, 2, 3, 4)] == [1, 4, 16, 30]


def test_origin_of_a_first_delivery_is_the_record_itself() -> None:
    origin = Origin.of(record())
    assert (origin.topic, origin.partition, origin.offset, origin.attempts) == (
        "usage.recorded",
        2,
        41,
        0,
    )


async def test_a_first_failure_goes_to_the_retry_topic_with_its_origin() -> None:
    producer = RecordingProducer()
    router = FailureRouter("analytics", producer, RetryPolicy(max_attempts=3))
    before = time.time()

    await router.route(Failure(record(), Origin.of(record()), "boom", permanent=False))

    [(topic, sent)] = producer.sent
    found = h.to_dict(sent["headers"])
    assert topic == "analytics.retry"
    assert found[h.ORIGINAL_TOPIC] == "usage.recorded"
    assert (found[h.ORIGINAL_PARTITION], found[h.ORIGINAL_OFFSET]) == ("2", "41")
    assert found[h.ATTEMPT] == "1"
    assert found[h.ERROR] == "boom"
    assert found["event-id"] == "e1", "the original headers travel along"
    assert float(found[h.RETRY_AT]) >= before + 1
    assert sent["key"] == b"user"


async def test_the_last_attempt_goes_to_the_dead_letter_topic() -> None:
    producer = RecordingProducer()
    router = FailureRouter("analytics", producer, RetryPolicy(max_attempts=3))
    retried = record(
        {
            h.ORIGINAL_TOPIC: "usage.recorded",
            h.ORIGINAL_PARTITION: "2",
            h.ORIGINAL_OFFSET: "41",
            h.ATTEMPT: "2",
            h.FIRST_FAILURE_AT: "then",
            h.RETRY_AT: "0",
        },
        topic="analytics.retry",
    )

    await router.route(Failure(retried, Origin.of(retried), "still broken", permanent=False))

    [(topic, sent)] = producer.sent
    found = h.to_dict(sent["headers"])
    assert topic == "analytics.dlq"
    assert found[h.ATTEMPT] == "3"
    assert found[h.FIRST_FAILURE_AT] == "then", "the first failure time is kept"
    assert h.RETRY_AT not in found


@pytest.mark.parametrize("attempts", [0, 1])
async def test_a_permanent_failure_skips_the_retries(attempts: int) -> None:
    producer = RecordingProducer()
    router = FailureRouter("gateway", producer, RetryPolicy(max_attempts=5))
    origin = Origin("t", 0, 0, attempts, None, None)

    await router.route(Failure(record(), origin, "contract: payload.x: bad", permanent=True))

    assert producer.sent[0][0] == "gateway.dlq"


def test_failure_headers_on_a_first_delivery_are_ignored() -> None:
    """Any producer can write `x-*` headers on a topic: they say nothing about its origin."""
    forged = record({h.ORIGINAL_TOPIC: "usage.recorded", h.ATTEMPT: "many"})

    origin = Origin.of(forged)

    assert (origin.topic, origin.offset, origin.attempts, origin.malformed) == (
        "usage.recorded",
        41,
        0,
        None,
    )


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "without its 'x-original-topic' header"),
        ({h.ORIGINAL_TOPIC: "usage.recorded"}, "without its 'x-original-partition' header"),
        (
            {
                h.ORIGINAL_TOPIC: "usage.recorded",
                h.ORIGINAL_PARTITION: "two",
                h.ORIGINAL_OFFSET: "41",
                h.ATTEMPT: "1",
            },
            "malformed header",
        ),
        (
            {
                h.ORIGINAL_TOPIC: "usage.recorded",
                h.ORIGINAL_PARTITION: "2",
                h.ORIGINAL_OFFSET: "41",
                h.ATTEMPT: "1",
                h.RETRY_AT: "inf",
            },
            "is not a time",
        ),
    ],
)
def test_a_retry_record_with_unreadable_headers_is_malformed(
    headers: dict[str, str], reason: str
) -> None:
    origin = Origin.of(record(headers, topic="analytics.retry"))

    assert origin.malformed is not None
    assert reason in origin.malformed
    assert (origin.topic, origin.attempts) == ("analytics.retry", 0)


async def test_a_malformed_retry_record_is_dead_lettered_once() -> None:
    producer = RecordingProducer()
    router = FailureRouter("analytics", producer, RetryPolicy(max_attempts=5))
    broken = record({h.ORIGINAL_TOPIC: "usage.recorded"}, topic="analytics.retry")
    origin = Origin.of(broken)
    assert origin.malformed is not None

    await router.route(Failure(broken, origin, origin.malformed, permanent=True))

    [(topic, sent)] = producer.sent
    assert topic == "analytics.dlq"
    assert "x-original-partition" in h.to_dict(sent["headers"])[h.ERROR]
