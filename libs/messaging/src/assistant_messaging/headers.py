"""Kafka header names the messaging layer reads and writes."""

from collections.abc import Mapping, Sequence

EVENT_ID = "event-id"
EVENT_TYPE = "event-type"
EVENT_VERSION = "event-version"
CORRELATION_ID = "correlation-id"

# Request/reply: where the answer goes and which request it answers.
REPLY_TOPIC = "reply-topic"
REPLY_PARTITION = "reply-partition"
IN_REPLY_TO = "in-reply-to"

# Retry and dead letter: where the message came from and how it failed.
ORIGINAL_TOPIC = "x-original-topic"
ORIGINAL_PARTITION = "x-original-partition"
ORIGINAL_OFFSET = "x-original-offset"
ATTEMPT = "x-attempt"
ERROR = "x-error"
FIRST_FAILURE_AT = "x-first-failure-at"
RETRY_AT = "x-retry-at"
FAILED_IN = "x-failed-in"

FAILURE_HEADERS = frozenset(
    {
        ORIGINAL_TOPIC,
        ORIGINAL_PARTITION,
        ORIGINAL_OFFSET,
        ATTEMPT,
        ERROR,
        FIRST_FAILURE_AT,
        RETRY_AT,
        FAILED_IN,
    }
)

KafkaHeaders = Sequence[tuple[str, bytes]]


def to_dict(headers: KafkaHeaders | None) -> dict[str, str]:
    return {name: value.decode(errors="replace") for name, value in headers or ()}


def to_kafka(headers: Mapping[str, str]) -> list[tuple[str, bytes]]:
    return [(name, value.encode()) for name, value in headers.items()]
