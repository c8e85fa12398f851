"""Kafka header names (from the contracts, `assistant_schemas.kafka_headers`) and their
conversion to and from aiokafka's (name, bytes) pairs."""

from collections.abc import Mapping, Sequence

from assistant_schemas.kafka_headers import (
    ATTEMPT,
    CORRELATION_ID,
    ERROR,
    EVENT_ID,
    EVENT_TYPE,
    EVENT_VERSION,
    FAILED_IN,
    FAILURE_HEADERS,
    FIRST_FAILURE_AT,
    IN_REPLY_TO,
    ORIGINAL_OFFSET,
    ORIGINAL_PARTITION,
    ORIGINAL_TOPIC,
    REPLY_PARTITION,
    REPLY_TOPIC,
    RETRY_AT,
)

__all__ = [
    "ATTEMPT",
    "CORRELATION_ID",
    "ERROR",
    "EVENT_ID",
    "EVENT_TYPE",
    "EVENT_VERSION",
    "FAILED_IN",
    "FAILURE_HEADERS",
    "FIRST_FAILURE_AT",
    "IN_REPLY_TO",
    "ORIGINAL_OFFSET",
    "ORIGINAL_PARTITION",
    "ORIGINAL_TOPIC",
    "REPLY_PARTITION",
    "REPLY_TOPIC",
    "RETRY_AT",
    "KafkaHeaders",
    "to_dict",
    "to_kafka",
]

KafkaHeaders = Sequence[tuple[str, bytes]]


def to_dict(headers: KafkaHeaders | None) -> dict[str, str]:
    return {name: value.decode(errors="replace") for name, value in headers or ()}


def to_kafka(headers: Mapping[str, str]) -> list[tuple[str, bytes]]:
    return [(name, value.encode()) for name, value in headers.items()]
